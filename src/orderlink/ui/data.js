// Data: each family's rows through its own list method (filter, paging), a row's detail and
// the bindings it is part of. Families and their columns come from the admin API, which reads
// them from each family's fields method: a new family shows up here with no code of its own.

import { get, query } from "./api.js";
import { failed, field, h, pre, table, text } from "./dom.js";

const SHOWN_COLUMNS = 8;
const OPERATORS = ["", "!", ">", ">=", "<", "<=", "%"];

export async function show(root, ctx) {
  if (!ctx.portal) {
    root.append(h("p", {}, "No portal."));
    return {};
  }
  const base = `/portals/${ctx.portal}`;
  const { families } = await get(`${base}/families`);
  const byKey = Object.fromEntries(families.map((f) => [f.key, f]));
  const key = byKey[ctx.params.get("family")] ? ctx.params.get("family") : families[0]?.key;
  const family = byKey[key];
  const picker = h("select", { name: "family" },
    families.map((f) => h("option", { value: f.key, selected: f.key === key }, f.title)));
  picker.addEventListener("change", () => ctx.go("data", { family: picker.value }));
  root.append(h("div", { class: "inline" }, field("Family", picker)));
  if (!family) return {};
  const id = ctx.params.get("id");
  return id ? detail(root, ctx, base, family, byKey, Number(id)) : rows(root, ctx, base, family, byKey);
}

function link(ctx, byKey, familyKey, id) {
  if (!byKey[familyKey] || id === null || id === undefined) return text(id);
  return h("a", { href: `#/data?${new URLSearchParams({ family: familyKey, id })}` },
    `${familyKey} ${id}`);
}

async function rows(root, ctx, base, family, byKey) {
  const start = Number(ctx.params.get("start") || 0);
  const filterText = ctx.params.get("filter") || "";
  let filter = {};
  try { filter = filterText ? JSON.parse(filterText) : {}; } catch { filter = {}; }
  const [current] = Object.entries(filter);
  const filterable = family.fields;
  const fieldPick = h("select", { name: "field" }, filterable.map((f) =>
    h("option", { value: f.name }, f.title === f.name ? f.name : `${f.name} (${f.title})`)));
  const opPick = h("select", { name: "op" }, OPERATORS.map((op) =>
    h("option", { value: op }, op || "=")));
  const value = h("input", { name: "value", autocomplete: "off" });
  if (current) {
    const match = /^([!<>=%]*)(.*)$/.exec(current[0]);
    opPick.value = match[1];
    fieldPick.value = match[2];
    value.value = text(current[1]);
  }
  const form = h("form", { class: "inline", "aria-label": "Filter" },
    field("Field", fieldPick), field("Operator", opPick), field("Value", value),
    h("button", { type: "submit" }, "Filter"),
    h("button", { type: "button", onclick: () => ctx.go("data", { family: family.key }) }, "Clear"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = value.value === "" ? {} : { [opPick.value + fieldPick.value]: value.value };
    ctx.go("data", { family: family.key, filter: JSON.stringify(wanted) });
  });
  const shown = h("div");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of rows" });
  root.append(form, shown, pager);

  const columns = family.fields.slice(0, SHOWN_COLUMNS);
  let last = "";
  async function refresh() {
    let page;
    try {
      page = await get(`${base}/families/${encodeURIComponent(family.key)}/records${query({
        start, filter: Object.keys(filter).length ? JSON.stringify(filter) : "" })}`);
    } catch (error) {
      shown.replaceChildren(h("p", { class: "alert", role: "alert" }, error.message));
      return;
    }
    const now = JSON.stringify(page);
    if (now === last) return;
    last = now;
    const links = page.links || [];
    const cells = columns.map((f) => [f.title === f.name ? f.name : `${f.title}`, (row) => {
      const index = page.rows.indexOf(row);
      const found = (links[index] || []).find((l) => l.field === f.name);
      if (found) return link(ctx, byKey, found.family, found.id);
      if (f.name === family.id_field && family.methods.get) return link(ctx, byKey, family.key, row[f.name]);
      return text(row[f.name]);
    }]);
    shown.replaceChildren(
      h("p", { class: "muted" }, `${page.total} row(s) through ${family.methods.list}`),
      table(`${family.title}: rows ${start + 1} to ${start + page.rows.length}`, cells, page.rows,
        "No rows."));
    const move = (to) => ctx.go("data", { family: family.key, start: to,
      ...(Object.keys(filter).length ? { filter: JSON.stringify(filter) } : {}) });
    pager.replaceChildren(
      h("button", { type: "button", disabled: start === 0,
        onclick: () => move(Math.max(0, start - page.page_size)) }, "Previous page"),
      h("button", { type: "button", disabled: page.next === null || page.next === undefined,
        onclick: () => move(page.next) }, "Next page"));
  }
  await refresh();
  return { refresh };
}

async function detail(root, ctx, base, family, byKey, id) {
  const shown = h("div");
  root.append(h("p", {}, h("a", { href: `#/data?family=${encodeURIComponent(family.key)}` },
    `Back to ${family.title}`)), shown);
  let last = "";
  async function refresh() {
    let found;
    try {
      found = await get(`${base}/families/${encodeURIComponent(family.key)}/records/${id}`);
    } catch (error) {
      shown.replaceChildren(h("p", { class: "alert", role: "alert" }, error.message));
      last = "";
      return;
    }
    const now = JSON.stringify(found);
    if (now === last) return;
    last = now;
    const titles = Object.fromEntries(family.fields.map((f) => [f.name, f.title]));
    const record = found.record && typeof found.record === "object" ? found.record : {};
    const empty = (value) => value === null || value === undefined || value === "" ||
      (typeof value === "object" && Object.keys(value).length === 0);
    const shownValue = (value) => (typeof value === "object" && !empty(value) ? pre(value) : text(value));
    shown.replaceChildren(
      h("h3", {}, `${family.title} ${id}`),
      h("h4", {}, "Bound to"),
      table(`Bindings of ${family.title} ${id}`, [
        ["Order", (b) => link(ctx, byKey, "sale.order", b.orderId)],
        ["Owner", (b) => {
          const owner = (b.links || []).find((l) => l.field === "ownerId");
          return owner ? link(ctx, byKey, owner.family, owner.id) : text(b.ownerId);
        }],
        ["ownerTypeId", (b) => text(b.ownerTypeId)],
      ], found.bindings, family.binds ? "Not bound." : "This family is not bound to orders."),
      h("h4", {}, `Fields, as ${family.methods.get} answers`),
      h("dl", { class: "record" }, Object.entries(record).flatMap(([name, value]) => [
        h("dt", {}, name, titles[name] && titles[name] !== name ? h("span", { class: "muted" }, ` ${titles[name]}`) : ""),
        h("dd", {}, shownValue(value)),
      ])),
    );
  }
  try {
    await refresh();
  } catch (error) {
    failed(error);
  }
  return { refresh };
}
