// The dashboard's shell: the page picked by the URL's #fragment, the portal picker, and live
// updates (each page's refresh, polled while "Live" is on and the tab is visible).

import { get } from "./api.js";
import { failed, h } from "./dom.js";
import * as data from "./data.js";
import * as events from "./events.js";
import * as faults from "./faults.js";
import * as journal from "./journal.js";
import * as limits from "./limits.js";
import * as portals from "./portals.js";

const PAGES = { portals, data, journal, limits, events, faults };
const POLL_MS = 1000;
const picker = document.getElementById("portal-picker");
const live = document.getElementById("live");
const root = document.getElementById("page");
let view = null;
let shown = "";
let busy = false;

function chosen() {
  return Number(picker.value) || null;
}

export async function loadPortals(prefer) {
  const before = chosen();
  const { portals: found } = await get("/portals");
  const keep = prefer ?? chosen() ?? Number(localStorage.getItem("orderlink.portal"));
  picker.replaceChildren(...found.map((p) =>
    h("option", { value: p.id }, `${p.id} ${p.name || "(no name)"}`)));
  const exists = found.some((p) => p.id === keep);
  picker.value = String(exists ? keep : found[0]?.id ?? "");
  localStorage.setItem("orderlink.portal", picker.value);
  if (before !== null && before !== chosen()) {
    // The portal shown is gone (deleted): show the page again for the one picked now.
    shown = "";
    window.setTimeout(render, 0);
  }
  return found;
}

function parse() {
  const [path, search = ""] = window.location.hash.replace(/^#\/?/, "").split("?");
  const name = PAGES[path] ? path : "portals";
  return { name, params: new URLSearchParams(search) };
}

export function go(name, params = {}) {
  const search = new URLSearchParams(params).toString();
  window.location.hash = `#/${name}${search ? "?" + search : ""}`;
}

async function render() {
  const { name, params } = parse();
  const key = `${name}?${params}|${chosen()}`;
  if (key === shown) return;
  shown = key;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === `#/${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  view = null;
  document.getElementById("status").textContent = "";
  const heading = h("h2", { tabindex: -1 }, name[0].toUpperCase() + name.slice(1));
  const body = h("div", { class: "body" });
  root.replaceChildren(heading, body);
  document.title = `${heading.textContent}: orderlink`;
  try {
    view = await PAGES[name].show(body, { portal: chosen(), params, go, loadPortals });
  } catch (error) {
    failed(error);
  }
  // Keyboard and screen-reader users land on the new page's heading.
  heading.focus({ preventScroll: true });
}

async function tick() {
  if (busy || !live.checked || document.hidden || !view?.refresh) return;
  busy = true;
  try {
    await view.refresh();
  } catch (error) {
    failed(error);
  } finally {
    busy = false;
  }
}

picker.addEventListener("change", () => {
  localStorage.setItem("orderlink.portal", picker.value);
  shown = "";
  render();
});
window.addEventListener("hashchange", () => {
  shown = "";
  render();
});

(async () => {
  try {
    await loadPortals();
  } catch (error) {
    failed(error);
  }
  await render();
  window.setInterval(tick, POLL_MS);
})();
