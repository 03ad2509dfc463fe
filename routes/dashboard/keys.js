// The key browser: prefix search with paging over GET /keys, one item's value as text, JSON or
// hex with its flags, TTL and CAS, and edit (If-Match), delete and create over /keys/{key}. What
// it shows (prefix, page size, page, item) is kept in the URL, so a link opens the same view.
import { apiFetch, keyPath } from "./api.js";
import { readView, showPanel, writeView } from "./view.js";

const byId = (id) => document.getElementById(id);
/** Bytes of a value shown in hex; the rest is summarised. */
const HEX_LIMIT = 64 * 1024;

/** The item on show: its key, value bytes, and ETag (its CAS) for If-Match. */
let current = null;
/** Cursors of the pages before the one shown, for "Previous". */
let cursors = [];
let cursor = "";
let nextCursor = null;

function say(text) {
  byId("key-message").textContent = text;
}

/** Puts what the browser shows in the URL (after something the user did, not on load). */
function remember() {
  writeView({
    panel: "keys",
    prefix: byId("key-prefix").value,
    limit: byId("key-limit").value,
    cursor: cursor === "" ? null : cursor,
    back: cursor === "" ? [] : cursors,
    key: current?.key,
  });
}

async function problem(res) {
  try {
    const body = await res.json();
    return `${res.status}: ${body.message ?? body.error}`;
  } catch {
    return `${res.status}`;
  }
}

function base64Bytes(text) {
  const raw = atob(text);
  return Uint8Array.from(raw, (ch) => ch.charCodeAt(0));
}

export function hexDump(bytes) {
  const lines = [];
  const end = Math.min(bytes.length, HEX_LIMIT);
  for (let at = 0; at < end; at += 16) {
    const row = bytes.subarray(at, Math.min(at + 16, end));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const text = Array.from(row, (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join(
      "",
    );
    lines.push(`${at.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${text}`);
  }
  if (bytes.length > end) lines.push(`… ${bytes.length - end} more bytes`);
  return lines.join("\n");
}

function viewMode() {
  return document.querySelector('input[name="view"]:checked').value;
}

/** Value in the edit box's form: hex pairs for hex, else the UTF-8 text. */
function editText(mode) {
  if (mode === "hex") {
    return Array.from(current.value, (b) => b.toString(16).padStart(2, "0")).join(" ");
  }
  return new TextDecoder().decode(current.value);
}

function showValue() {
  const mode = viewMode();
  const out = byId("detail-value");
  const text = new TextDecoder("utf-8", { fatal: false }).decode(current.value);
  if (mode === "hex") out.textContent = hexDump(current.value);
  else if (mode === "json") {
    try {
      out.textContent = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      out.textContent = `(not JSON) ${text}`;
    }
  } else out.textContent = current.utf8 ? text : "(not UTF-8 text: choose Hex)";
  byId("edit-mode").textContent = mode === "hex" ? "hex bytes" : "text";
  byId("edit-value").value = editText(mode);
}

async function openKey(key, record = true) {
  const res = await apiFetch(`${keyPath(key)}?format=json`);
  if (!res.ok) {
    say(`Reading ${key}: ${await problem(res)}`);
    byId("key-detail").hidden = true;
    current = null;
    if (record) remember();
    return;
  }
  const item = await res.json();
  const value = item.encoding === "base64"
    ? base64Bytes(item.value)
    : new TextEncoder().encode(item.value);
  current = { key, value, utf8: item.encoding !== "base64", etag: res.headers.get("etag") };
  byId("detail-key").textContent = key;
  byId("detail-size").textContent = `${item.size} bytes`;
  byId("detail-flags").textContent = String(item.flags);
  byId("detail-ttl").textContent = item.ttl === null ? "never expires" : `${item.ttl} s`;
  byId("detail-cas").textContent = String(item.cas);
  byId("edit-flags").value = String(item.flags);
  byId("edit-ttl").value = item.ttl === null ? "0" : String(Math.max(1, item.ttl));
  byId("key-detail").hidden = false;
  showValue();
  if (record) remember();
}

function parseHex(text) {
  const digits = text.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error("hex needs pairs of 0-9 a-f");
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function query(flags, ttl) {
  return `?flags=${encodeURIComponent(flags || "0")}&ttl=${encodeURIComponent(ttl || "0")}`;
}

async function save(event) {
  event.preventDefault();
  if (current === null) return;
  let body;
  try {
    body = viewMode() === "hex"
      ? parseHex(byId("edit-value").value)
      : new TextEncoder().encode(byId("edit-value").value);
  } catch (err) {
    say(err.message);
    return;
  }
  const res = await apiFetch(
    keyPath(current.key) + query(byId("edit-flags").value, byId("edit-ttl").value),
    {
      method: "PUT",
      headers: { "if-match": current.etag },
      body,
    },
  );
  let message = `Saved ${current.key}.`;
  if (res.status === 412) {
    message = `Not saved: ${current.key} changed since it was read (its CAS moved). Reloaded it.`;
  } else if (!res.ok) {
    say(`Not saved: ${await problem(res)}`);
    return;
  }
  // Said once the item on show is the one just written, so what is read next is current.
  await openKey(current.key);
  say(message);
}

async function remove() {
  if (current === null) return;
  const res = await apiFetch(keyPath(current.key), {
    method: "DELETE",
    headers: { "if-match": current.etag },
  });
  if (!res.ok) {
    say(`Not deleted: ${await problem(res)}`);
    return;
  }
  say(`Deleted ${current.key}.`);
  current = null;
  byId("key-detail").hidden = true;
  await loadPage();
  remember();
}

async function create(event) {
  event.preventDefault();
  const key = byId("create-key").value;
  const res = await apiFetch(
    keyPath(key) + query(byId("create-flags").value, byId("create-ttl").value),
    {
      method: "PUT",
      headers: { "if-none-match": "*" },
      body: new TextEncoder().encode(byId("create-value").value),
    },
  );
  if (!res.ok) {
    say(
      res.status === 412
        ? `Not created: ${key} exists already.`
        : `Not created: ${await problem(res)}`,
    );
    return;
  }
  byId("create-form").reset();
  await loadPage();
  await openKey(key);
  say(`Created ${key}.`);
}

/** Shows the page of keys that starts after `cursor` (and puts it in the URL with `record`). */
async function loadPage(record = false) {
  const prefix = byId("key-prefix").value;
  const limit = byId("key-limit").value;
  const params = new URLSearchParams({ prefix, limit });
  if (cursor !== "") params.set("cursor", cursor);
  const res = await apiFetch(`/keys?${params}`);
  if (!res.ok) {
    say(`Listing keys: ${await problem(res)}`);
    return;
  }
  const page = await res.json();
  nextCursor = page.cursor;
  const list = byId("key-list");
  list.replaceChildren(...page.keys.map((key) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = key;
    button.addEventListener("click", () => openKey(key));
    item.append(button);
    return item;
  }));
  if (page.keys.length === 0) {
    const empty = document.createElement("li");
    empty.textContent = prefix === "" ? "no keys" : `no keys start with “${prefix}”`;
    list.append(empty);
  }
  byId("key-page").textContent = `page ${cursors.length + 1}`;
  byId("key-prev").disabled = cursors.length === 0;
  byId("key-next").disabled = nextCursor === null;
  if (record) remember();
}

/**
 * Shows what the URL asks for: its prefix, page size, page and item, and its panel. Called at
 * start (an empty prefix lists the first page of every key) and when the fragment changes.
 */
export async function applyView() {
  const view = readView();
  byId("key-prefix").value = view.prefix;
  const sizes = [...byId("key-limit").options].map((o) => o.value);
  if (view.limit !== null && sizes.includes(view.limit)) byId("key-limit").value = view.limit;
  cursor = view.cursor;
  cursors = cursor === "" ? [] : view.back;
  await loadPage();
  if (view.key !== null) await openKey(view.key, false);
  else {
    current = null;
    byId("key-detail").hidden = true;
  }
  showPanel(view.panel);
}

export function initKeys() {
  byId("key-search").addEventListener("submit", (event) => {
    event.preventDefault();
    cursors = [];
    cursor = "";
    loadPage(true);
  });
  byId("key-next").addEventListener("click", () => {
    if (nextCursor === null) return;
    cursors.push(cursor);
    cursor = nextCursor;
    loadPage(true);
  });
  byId("key-prev").addEventListener("click", () => {
    cursor = cursors.pop() ?? "";
    loadPage(true);
  });
  for (const radio of document.querySelectorAll('input[name="view"]')) {
    radio.addEventListener("change", () => current !== null && showValue());
  }
  byId("edit-form").addEventListener("submit", save);
  byId("delete-key").addEventListener("click", remove);
  byId("create-form").addEventListener("submit", create);
  say("Search lists keys by prefix (an empty prefix lists all).");
  return applyView().catch((err) => say(`Listing keys: ${err.message}`));
}
