// A portal's page that shows what one admin API path answers and draws it again only when that
// answer changed (or when an action of the page asks: `refresh(true)`); polled by app.js.

import { get } from "./api.js";
import { h } from "./dom.js";

// `draw(answer, refresh)` gives the nodes shown after `above` (a form of the page, ...).
export async function portalPage(root, ctx, path, draw, above = []) {
  if (!ctx.portal) {
    root.append(h("p", {}, "No portal."));
    return {};
  }
  const shown = h("div");
  root.append(...above, shown);
  let last = "";
  async function refresh(force = false) {
    const answer = await get(`/portals/${ctx.portal}${path}`);
    const now = JSON.stringify(answer);
    if (now === last && !force) return;
    last = now;
    shown.replaceChildren(...draw(answer, refresh));
  }
  await refresh();
  return { refresh };
}
