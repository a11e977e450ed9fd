// Portals: list, create, reset, snapshot and restore, delete; a portal's webhooks and apps.

import { get, post, remove } from "./api.js";
import { copyButton, failed, field, h, say, table, text, when } from "./dom.js";

export async function show(root, ctx) {
  const created = h("div", { class: "created", "aria-live": "polite" });
  const list = h("div");
  const about = h("div");

  const name = h("input", { name: "name", autocomplete: "off" });
  const plan = h("select", { name: "plan" },
    h("option", { value: "standard" }, "standard"), h("option", { value: "enterprise" }, "enterprise"));
  const seed = h("input", { type: "checkbox", name: "seed_examples" });
  const form = h("form", { class: "inline", "aria-label": "Create a portal" },
    field("Name", name), field("Plan", plan),
    h("div", { class: "field check" }, h("label", {}, seed, " Seed the docs' example rows")),
    h("button", { type: "submit" }, "Create portal"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const made = await post("/portals", {
        name: name.value, plan: plan.value, seed_examples: seed.checked });
      created.replaceChildren(webhookNote(
        `Portal ${made.id} created (pick it in the Portal menu to see its data).`, made.webhook));
      name.value = "";
      await ctx.loadPortals();
      await refresh(true);
      say(`Portal ${made.id} created`);
    } catch (error) {
      failed(error);
    }
  });

  async function act(what, run) {
    try {
      await run();
      say(what);
      await ctx.loadPortals();
      await refresh(true);
    } catch (error) {
      failed(error);
    }
  }

  function row(portal) {
    const snapName = h("input", { name: "snapshot", "aria-label": `Snapshot name for portal ${portal.id}`,
      placeholder: "name", size: 10, pattern: "[A-Za-z0-9][A-Za-z0-9._-]{0,99}" });
    const snapshots = h("select", { "aria-label": `Snapshot to restore on portal ${portal.id}` },
      portal.snapshots.map((s) => h("option", { value: s }, s)));
    return {
      snapshot: h("form", { class: "mini", onsubmit: (e) => { e.preventDefault();
        act(`Snapshot ${snapName.value} saved`, () => post(`/portals/${portal.id}/snapshots`, { name: snapName.value })); } },
        snapName, h("button", { type: "submit", "aria-label": `Snapshot portal ${portal.id}` }, "Snapshot")),
      restore: portal.snapshots.length
        ? h("form", { class: "mini", onsubmit: (e) => { e.preventDefault();
          act(`Restored ${snapshots.value}`, () => post(`/portals/${portal.id}/restore`, { name: snapshots.value })); } },
          snapshots, h("button", { type: "submit", "aria-label": `Restore portal ${portal.id}` }, "Restore"))
        : h("span", { class: "muted" }, "no snapshots"),
      actions: h("span", { class: "actions" },
        h("button", { type: "button", "aria-label": `Reset portal ${portal.id}`, onclick: () => {
          if (window.confirm(`Reset portal ${portal.id}? Its rows are dropped.`)) {
            act(`Portal ${portal.id} reset`, () => post(`/portals/${portal.id}/reset`, {}));
          } } }, "Reset"),
        h("button", { type: "button", class: "danger", "aria-label": `Delete portal ${portal.id}`, onclick: () => {
          if (window.confirm(`Delete portal ${portal.id} and everything in it?`)) {
            act(`Portal ${portal.id} deleted`, () => remove(`/portals/${portal.id}`));
          } } }, "Delete")),
    };
  }

  let last = "";
  async function refresh(force = false) {
    const { portals } = await get("/portals");
    const key = JSON.stringify(portals);
    if (key !== last || force) {
      last = key;
      const rows = portals.map((p) => ({ ...p, ui: row(p) }));
      list.replaceChildren(table("Portals", [
        ["Id", (p) => p.id], ["Name", (p) => p.name], ["Plan", (p) => p.plan],
        ["Member id", (p) => h("code", {}, p.member_id)], ["Created", (p) => when(p.created)],
        ["Snapshot", (p) => p.ui.snapshot], ["Restore", (p) => p.ui.restore], ["", (p) => p.ui.actions],
      ], rows));
    }
    if (ctx.portal) await describe(ctx.portal);
  }

  let lastAbout = "";
  async function describe(portalId) {
    const [{ webhooks }, { apps }] = await Promise.all([
      get(`/portals/${portalId}/webhooks`), get(`/portals/${portalId}/apps`)]);
    const key = JSON.stringify([webhooks, apps]);
    if (key === lastAbout) return;
    lastAbout = key;
    const fresh = h("div", { class: "created", "aria-live": "polite" });
    about.replaceChildren(
      h("h3", {}, `Portal ${portalId}: webhooks`),
      h("p", { class: "muted" }, "A webhook's code is shown only when it is made; ",
        "make a new one to copy a whole URL."),
      table("Webhooks", [
        ["Id", (w) => w.id], ["User", (w) => w.user_id], ["Scopes", (w) => w.scopes.join(", ")],
        ["Active", (w) => (w.active ? "yes" : "no")], ["URL", (w) => h("code", {}, w.url)],
        ["", (w) => copyButton(w.url, "Copy", `Copy the URL of webhook ${w.id}`)],
      ], webhooks),
      h("button", { type: "button", onclick: async () => {
        try {
          const { webhook } = await post(`/portals/${portalId}/webhooks`, {});
          fresh.replaceChildren(webhookNote("New admin webhook:", webhook));
          say("Webhook made");
        } catch (error) { failed(error); }
      } }, "New admin webhook"),
      fresh,
      h("h3", {}, `Portal ${portalId}: apps`),
      table("Apps", [
        ["Id", (a) => a.id], ["Name", (a) => a.name], ["client_id", (a) => h("code", {}, a.client_id)],
        ["Scopes", (a) => a.scopes.join(", ")], ["Installed", (a) => (a.installed ? "yes" : "no")],
        ["Handler", (a) => text(a.handler_url)],
      ], apps, "No apps (orderlink app add)."),
    );
  }

  root.append(h("h3", {}, "Create a portal"), form, created, list, about);
  await refresh(true);
  return { refresh };
}

function webhookNote(lead, url) {
  return h("p", { class: "note" }, lead, " Webhook URL (its code is shown only now): ",
    h("code", { class: "webhook" }, url), " ", copyButton(url, "Copy URL"));
}
