// Small DOM helpers: elements from data, tables, copy buttons, time and JSON as text.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function say(text) {
  const status = document.getElementById("status");
  status.textContent = "";
  // A new text node each time, so screen readers announce a repeated message too.
  window.setTimeout(() => { status.textContent = text; }, 10);
}

export function failed(error) {
  say(`Failed: ${error.message}`);
}

export function text(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function json(value) {
  return JSON.stringify(value, null, 2);
}

export function when(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const date = new Date(seconds * 1000);
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export async function copy(value) {
  try {
    await navigator.clipboard.writeText(value);
  } catch {
    const area = h("textarea", { class: "offscreen", readonly: true });
    area.value = value;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  say("Copied to the clipboard");
}

export function copyButton(value, label = "Copy", name = undefined) {
  return h("button", { type: "button", class: "copy", "aria-label": name, onclick: () => copy(value) },
    label);
}

// A table of `rows`; `columns` are [heading, (row) => cell content].
export function table(caption, columns, rows, empty = "Nothing yet.") {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("div", { class: "scroll", role: "region", "aria-label": caption, tabindex: 0 },
    h("table", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, columns.map(([, cell]) => h("td", {}, cell(row))))))));
}

export function field(label, control) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

export function details(summary, ...content) {
  return h("details", {}, h("summary", {}, summary), ...content);
}

export function pre(value) {
  return h("pre", { tabindex: 0 }, typeof value === "string" ? value : json(value));
}
