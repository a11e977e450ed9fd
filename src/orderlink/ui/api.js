// The admin API, as the signed-in browser calls it: the session cookie travels by itself, and
// every request that changes something carries the session's CSRF token (docs/dashboard.md).

const BASE = "/_orderlink/api";
const csrf = document.querySelector('meta[name="orderlink-csrf"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error_description || body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function api(verb, path, body) {
  const headers = { Accept: "application/json" };
  if (verb !== "GET") headers["X-Orderlink-CSRF"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(BASE + path, {
    method: verb,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
    cache: "no-store",
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { error: text };
  }
  if (response.status === 401) {
    // The session ended (or the token changed): the page answers with the sign-in form. Once
    // a minute at most, in case the page came with a bearer header its scripts do not send.
    const last = Number(sessionStorage.getItem("orderlink.reloaded") || 0);
    if (Date.now() - last > 60_000) {
      sessionStorage.setItem("orderlink.reloaded", String(Date.now()));
      window.location.reload();
    }
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);
export const remove = (path) => api("DELETE", path);

export function query(params) {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
}
