// Faults: add and remove the faults the portal answers with; see how often each fired.

import { post, remove } from "./api.js";
import { failed, field, h, say, table, when } from "./dom.js";
import { portalPage } from "./live.js";

const CODES = ["INTERNAL_SERVER_ERROR", "ERROR_UNEXPECTED_ANSWER", "QUERY_LIMIT_EXCEEDED",
  "OVERLOAD_LIMIT", "OPERATION_TIME_LIMIT", "ACCESS_DENIED", "NO_AUTH_FOUND", "INVALID_CREDENTIALS",
  "expired_token", "invalid_token", "insufficient_scope", "PORTAL_DELETED", "ERROR_METHOD_NOT_FOUND",
  "HTML_502", "HTML_503", "HTML_504"];

export async function show(root, ctx) {
  const base = `/portals/${ctx.portal}/faults`;
  let page = {};
  const method = h("input", { name: "method", placeholder: "every method", autocomplete: "off" });
  const error = h("input", { name: "error", list: "fault-codes", autocomplete: "off" });
  const times = h("input", { name: "times", type: "number", min: 1, placeholder: "until removed" });
  const delay = h("input", { name: "delay", type: "number", min: 0, max: 600, step: "any", placeholder: "0" });
  const drop = h("input", { type: "checkbox", name: "drop" });
  const form = h("form", { class: "inline", "aria-label": "Add a fault" },
    field("Method", method), field("Error", error),
    h("datalist", { id: "fault-codes" }, CODES.map((c) => h("option", { value: c }))),
    field("Times", times), field("Delay (s)", delay),
    h("div", { class: "field check" }, h("label", {}, drop, " Drop the connection")),
    h("button", { type: "submit" }, "Add fault"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    if (method.value.trim()) body.method = method.value.trim();
    if (error.value.trim()) body.error = error.value.trim();
    if (times.value) body.times = Number(times.value);
    if (delay.value) body.delay = Number(delay.value);
    if (drop.checked) body.drop = true;
    try {
      const { fault } = await post(base, body);
      say(`Fault ${fault.id} added`);
      form.reset();
      await page.refresh(true);
    } catch (err) {
      failed(err);
    }
  });
  page = await portalPage(root, ctx, "/faults", ({ faults }, refresh) => {
    const drop = async (path, what) => {
      try {
        await remove(path);
        say(what);
        await refresh(true);
      } catch (err) { failed(err); }
    };
    return [
      table("Faults, oldest first", [
        ["Id", (f) => f.id], ["Method", (f) => f.method || "every method"],
        ["Answer", (f) => f.drop ? "drop" : f.error ? `${f.error} (HTTP ${f.status})` : "only a delay"],
        ["Delay", (f) => `${f.delay} s`], ["Times", (f) => f.times ?? "until removed"],
        ["Fired", (f) => h("strong", { class: "fired" }, String(f.fired))],
        ["Probability", (f) => String(f.probability)], ["Added", (f) => when(f.created_at)],
        ["", (f) => h("button", { type: "button", "aria-label": `Remove fault ${f.id}`,
          onclick: () => drop(`${base}/${f.id}`, `Fault ${f.id} removed`) },
          "Remove")],
      ], faults, "No faults: the portal answers normally."),
      faults.length ? h("button", { type: "button", class: "danger",
        onclick: () => drop(base, "Every fault removed") }, "Remove every fault") : "",
    ];
  }, [h("h3", {}, "Add a fault"), form]);
  return page;
}
