/**
 * `GET /keys`: one page of live keys with a prefix, in byte order after a cursor. The store is
 * scanned in slices with a yield between them, so a large listing shares the process with
 * everyone else.
 */
import type { Store } from "../src/store/store.ts";
import {
  BadParameter,
  base64url,
  fromBase64url,
  keyText,
  parseCount,
  type Query,
} from "./params.ts";

/** Largest `limit` of one page of `GET /keys`. */
export const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;
/** Item slots scanned between two yields (a few milliseconds of work). */
const SLICE_SLOTS = 50_000;

/** Sorted keys without repeats: an item rewritten during the scan can be met in two slots. */
function dedupe(sorted: string[]): string[] {
  return sorted.filter((key, i) => i === 0 || key !== sorted[i - 1]);
}

function latin1(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * One page of live keys with a prefix, in byte order after the cursor (the last key of the previous
 * page), so keys that stay in the cache are listed exactly once however the LRU reorders them.
 * Keeps at most 2 * limit candidates while scanning.
 */
export async function listKeys(
  store: Store,
  q: Query,
): Promise<{ keys: string[]; cursor: string | null }> {
  const prefix = latin1(q.bytes("prefix") ?? new Uint8Array(0));
  const limitText = q.text("limit");
  const limit = limitText === undefined ? DEFAULT_PAGE : parseCount("limit", limitText, MAX_PAGE);
  const cursorText = q.text("cursor");
  let after: string | null = null;
  if (cursorText !== undefined && cursorText !== "") {
    const bytes = fromBase64url(cursorText);
    if (bytes === null) throw new BadParameter("cursor is not one this server gave out");
    after = latin1(bytes);
  }
  let picked: string[] = [];
  const visit = (keyBytes: Uint8Array) => {
    const key = latin1(keyBytes);
    if (!key.startsWith(prefix) || (after !== null && key <= after)) return;
    picked.push(key);
    if (picked.length >= 2 * limit + 2) picked = dedupe(picked.sort()).slice(0, limit + 1);
  };
  // In slices of slots, yielding between them, so a listing of a million keys does not hold
  // up every other client for its whole scan.
  for (let slot = 0; slot !== -1;) {
    slot = store.forEachKeyInSlots(slot, SLICE_SLOTS, visit);
    if (slot !== -1) await new Promise((r) => setTimeout(r, 0));
  }
  picked = dedupe(picked.sort());
  const more = picked.length > limit;
  const page = picked.slice(0, limit).map(latin1Bytes);
  return {
    keys: page.map(keyText),
    cursor: more ? base64url(page[page.length - 1]) : null,
  };
}
