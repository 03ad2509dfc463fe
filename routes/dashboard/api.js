// The page's access to the HTTP API: the bearer token (asked once, kept in this tab's session
// storage, never put in a URL) and the stats event stream read through fetch, which, unlike
// EventSource, can send the Authorization header.

const TOKEN_KEY = "memcached-http-token";
/** Largest unfinished event kept while reading the stream. */
const MAX_EVENT_CHARS = 1 << 20;

let token = sessionStorage.getItem(TOKEN_KEY);
/** Resolves the pending token request (the dialog is open) with the token typed in. */
let tokenWaiters = [];

export function hasToken() {
  return token !== null;
}

export function forgetToken() {
  token = null;
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Opens the token dialog (once, however many requests wait) and resolves with what is typed. */
function askToken(refused) {
  const dialog = document.getElementById("token-dialog");
  const error = document.getElementById("token-error");
  error.hidden = !refused;
  error.textContent = refused ? "The server refused that token (401). Try again." : "";
  if (!dialog.open) dialog.showModal();
  document.getElementById("token-input").focus();
  return new Promise((resolve) => tokenWaiters.push(resolve));
}

export function initTokenForm() {
  const form = document.getElementById("token-form");
  const dialog = document.getElementById("token-dialog");
  // The token is the page's only way in: the dialog cannot be dismissed without one.
  dialog.addEventListener("cancel", (event) => event.preventDefault());
  form.addEventListener("submit", () => {
    const input = document.getElementById("token-input");
    token = input.value.trim();
    input.value = "";
    sessionStorage.setItem(TOKEN_KEY, token);
    const waiters = tokenWaiters;
    tokenWaiters = [];
    for (const resolve of waiters) resolve();
  });
}

/**
 * fetch() on the API with the token; a 401 asks for the token (saying the last one was refused
 * when there was one) and tries again.
 */
export async function apiFetch(path, init = {}) {
  for (;;) {
    const headers = new Headers(init.headers);
    if (token !== null) headers.set("authorization", `Bearer ${token}`);
    const res = await fetch(path, { ...init, headers });
    if (res.status !== 401) return res;
    await res.body?.cancel();
    const refused = token !== null;
    forgetToken();
    await askToken(refused);
  }
}

/** JSON of a GET, or an Error with the API's message. */
export async function apiJson(path) {
  const res = await apiFetch(path);
  const body = await res.json();
  if (!res.ok) throw new Error(`${res.status} ${body.message ?? body.error}`);
  return body;
}

/**
 * Reads `/stats/stream` until it ends or fails, calling `onEvent` with each event's JSON data.
 * Resolves when the stream ends; rejects on a network error.
 */
export async function readStatsStream(onEvent, signal) {
  const res = await apiFetch("/stats/stream", { signal, headers: { accept: "text/event-stream" } });
  if (!res.ok || res.body === null) throw new Error(`stream answered ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    pending += value.replaceAll("\r\n", "\n");
    let end;
    while ((end = pending.indexOf("\n\n")) !== -1) {
      const data = pending.slice(0, end).split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      pending = pending.slice(end + 2);
      if (data !== "") onEvent(JSON.parse(data));
    }
    if (pending.length > MAX_EVENT_CHARS) throw new Error("an event larger than 1 MiB");
  }
}

/**
 * URL path of a key as the listing spells it. Keys that are not UTF-8 are listed %-encoded, which
 * reads the same as a UTF-8 key holding those characters; the page takes every key as UTF-8 text.
 */
export function keyPath(key) {
  return "/keys/" + encodeURIComponent(key);
}
