// Journal: the portal's calls, newest first, new ones as they come; filter by method and status;
// a call's parameters, answer, timing, batch commands, limit and scope decisions; copy as curl.

import { get, query } from "./api.js";
import { copyButton, details, field, h, pre, table, text, when } from "./dom.js";

export async function show(root, ctx) {
  if (!ctx.portal) {
    root.append(h("p", {}, "No portal."));
    return {};
  }
  const id = ctx.params.get("id");
  return id ? entry(root, ctx, Number(id)) : list(root, ctx);
}

function notes(call) {
  const out = [];
  if (call.dropped) out.push("dropped");
  for (const f of call.faults || []) out.push(`fault ${f.id ?? "header"}: ${f.error || (f.drop ? "drop" : `delay ${f.delay}`)}`);
  if (call.did_you_mean) out.push(`did you mean ${call.did_you_mean}?`);
  if (call.decisions?.rate_limit === "refused") out.push("rate limit refused");
  if (call.decisions?.operating?.refused) out.push("operating time refused");
  if (call.decisions?.scope && !call.decisions.scope.granted) out.push(`needs scope ${call.decisions.scope.needs}`);
  return out.join("; ");
}

function list(root, ctx) {
  const method = h("input", { name: "method", value: ctx.params.get("method") || "", autocomplete: "off" });
  const status = h("input", { name: "status", value: ctx.params.get("status") || "", inputmode: "numeric",
    size: 5, autocomplete: "off" });
  const form = h("form", { class: "inline", "aria-label": "Filter calls" },
    field("Method", method), field("HTTP status", status), h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", onclick: () => ctx.go("journal") }, "Clear"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ctx.go("journal", Object.fromEntries(
      [["method", method.value.trim()], ["status", status.value.trim()]].filter(([, v]) => v)));
  });
  const shown = h("div");
  root.append(form, shown);
  let last = "";
  async function refresh() {
    const { journal } = await get(`/portals/${ctx.portal}/journal${query({
      method: ctx.params.get("method"), status: ctx.params.get("status"), limit: 100 })}`);
    const now = JSON.stringify(journal.map((c) => c.id));
    if (now === last) return;
    last = now;
    shown.replaceChildren(table("Calls, newest first", [
      ["Id", (c) => h("a", { href: `#/journal?id=${c.id}` }, String(c.id))],
      ["Time", (c) => when(c.time)],
      ["Method", (c) => h("code", {}, c.method)],
      ["Status", (c) => h("span", { class: c.status >= 400 || c.status === 0 ? "bad" : "good" },
        String(c.status))],
      ["ms", (c) => (c.duration * 1000).toFixed(1)],
      ["Caller", (c) => `${c.credential} (user ${c.user_id})`],
      ["Notes", notes],
    ], journal, "No calls yet."));
  }
  return refresh().then(() => ({ refresh }));
}

export function curl(call, origin) {
  const params = { ...(call.params && typeof call.params === "object" ? call.params : {}) };
  let url;
  if (call.transport === "oauth") {
    url = `${origin}/rest/${call.method}.json`;
    params.auth = "{access_token}";
  } else {
    url = `${origin}/rest/${call.user_id}/{code}/${call.method}.json`;
  }
  const body = JSON.stringify(params).replaceAll("'", "'\\''");
  return `curl -X POST -H 'Content-Type: application/json' -d '${body}' '${url}'`;
}

async function entry(root, ctx, id) {
  const { journal } = await get(`/portals/${ctx.portal}/journal${query({ after: id - 1, limit: 1000 })}`);
  const call = journal.find((c) => c.id === id);
  root.append(h("p", {}, h("a", { href: "#/journal" }, "Back to the journal")));
  if (!call) {
    root.append(h("p", { class: "alert", role: "alert" }, `No call ${id} (the journal keeps the newest).`));
    return {};
  }
  const command = curl(call, window.location.origin);
  root.append(
    h("h3", {}, `Call ${call.id}: `, h("code", {}, call.method)),
    h("dl", { class: "record" },
      h("dt", {}, "Time"), h("dd", {}, when(call.time)),
      h("dt", {}, "Status"), h("dd", {}, String(call.status), call.dropped ? " (dropped)" : ""),
      h("dt", {}, "Duration"), h("dd", {}, `${(call.duration * 1000).toFixed(2)} ms`),
      h("dt", {}, "Caller"), h("dd", {}, `${call.transport} ${call.credential}, user ${call.user_id}`),
      h("dt", {}, "Notes"), h("dd", {}, notes(call) || "none")),
    h("h3", {}, "As curl"),
    h("p", { class: "muted" }, "{code}: the webhook's code, shown only when it was made."),
    pre(command), copyButton(command, "Copy as curl"),
    h("h3", {}, "Parameters"), pre(call.params),
    h("h3", {}, "Answer", call.truncated ? " (cut at 64 KiB)" : ""), pre(call.answer),
    h("h3", {}, "Limit and scope decisions"), pre(call.decisions),
    call.faults.length ? [h("h3", {}, "Faults that fired"), pre(call.faults)] : [],
  );
  if (call.batch) {
    root.append(h("h3", {}, "Batch commands"), table("Batch commands", [
      ["Key", (c) => c.id], ["Method", (c) => h("code", {}, c.method)], ["Status", (c) => String(c.status)],
      ["Decisions", (c) => text(c.decisions || {})],
      ["Detail", (c) => details("params and answer", pre(c.params), pre(c.error ?? c.result))],
    ], call.batch));
  }
  return {};
}
