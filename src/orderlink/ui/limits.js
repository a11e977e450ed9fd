// Limits: the leaky bucket's level per client address, and each method's operating time in its
// one-minute baskets, as the limiter holds them now.

import { h, table, when } from "./dom.js";
import { portalPage } from "./live.js";

export function show(root, ctx) {
  return portalPage(root, ctx, "/limits", (limits) => {
    const rate = limits.rate_limit;
    const op = limits.operating;
    return [
      h("h3", {}, "Request rate (leaky bucket)"),
      h("p", {}, rate.on
        ? `On: a burst of ${rate.size} requests, draining ${rate.drain} per second, per client address.`
        : "Off on this server (--no-rate-limit)."),
      table("Buckets", [
        ["Client", (b) => b.client],
        ["Level", (b) => h("span", {}, h("meter", { min: 0, max: rate.size, value: b.level,
          "aria-label": `Bucket of ${b.client}` }), ` ${b.level.toFixed(1)} / ${rate.size}`)],
      ], rate.buckets, "No requests counted yet."),
      h("h3", {}, "Operating time"),
      h("p", {}, op.limit > 0
        ? `A method may run ${op.limit} s per credential in ${op.window / 60} minutes (baskets of ${op.basket} s).`
        : "Off on this server (--operating-limit 0)."),
      table("Operating time per method", [
        ["Credential", (m) => m.credential], ["Method", (m) => h("code", {}, m.method)],
        ["Seconds", (m) => h("span", {}, h("meter", { min: 0, max: op.limit || 1, value: m.seconds,
          "aria-label": `Operating time of ${m.method}` }), ` ${m.seconds.toFixed(3)}`)],
        ["Resets at", (m) => when(m.reset_at)],
        ["Baskets", (m) => m.baskets.map((b) => `${when(b.started).slice(11)} ${b.seconds.toFixed(3)} s`).join(", ")],
      ], op.methods, "No method has run yet."),
    ];
  });
}
