// Events: the portal's handlers, and its deliveries with their attempts and last status;
// redeliver one.

import { post } from "./api.js";
import { details, failed, h, pre, say, table, when } from "./dom.js";
import { portalPage } from "./live.js";

export function show(root, ctx) {
  return portalPage(root, ctx, "/events", (events, refresh) => [
    h("h3", {}, "Handlers"),
    table("Event handlers", [
      ["Id", (e) => e.id], ["App", (e) => `${e.app} (${e.app_id})`], ["Event", (e) => h("code", {}, e.event)],
      ["Handler", (e) => h("code", {}, e.handler)], ["Offline", (e) => (e.offline ? "yes" : "no")],
    ], events.handlers, "No handlers (event.bind)."),
    h("h3", {}, "Deliveries"),
    table("Deliveries, newest first", [
      ["Id", (d) => d.id], ["Event", (d) => h("code", {}, d.event)], ["Handler", (d) => h("code", {}, d.handler)],
      ["Status", (d) => h("span", { class: d.status === "failed" ? "bad" : d.status === "delivered" ? "good" : "" }, d.status)],
      ["Attempts", (d) => String(d.attempts)], ["Last answer", (d) => d.last_status],
      ["Created", (d) => when(d.created)], ["Delivered", (d) => when(d.delivered_at)],
      ["Data", (d) => details("data", pre(d.data))],
      ["", (d) => h("button", { type: "button", onclick: async () => {
        try {
          await post(`/portals/${ctx.portal}/deliveries/${d.id}/redeliver`, {});
          say(`Delivery ${d.id} is due again`);
          await refresh(true);
        } catch (error) { failed(error); }
      }, "aria-label": `Redeliver delivery ${d.id}` }, "Redeliver")],
    ], events.deliveries, "No deliveries yet."),
  ]);
}
