/**
 * Key listings that do not stop the server: the live items are first noted (their handles only),
 * then rendered and written a slice at a time, one event-loop turn per slice, so other clients are
 * answered in between. An item deleted or replaced since it was noted is skipped.
 */
import type { Store } from "../store/store.ts";
import { FETCHED } from "../store/types.ts";
import { nextTurn } from "./turn.ts";
import { latin1, ntotalOf, slabClassOf, uriEncode } from "./items.ts";

/** Items rendered per turn. */
export const SLICE = 2000;

/** Renders one item (or null to leave it out). */
export type ItemRenderer = (store: Store, key: Uint8Array, handle: number) => string | null;

/** Handles of the live items, most recently used first. */
function noteItems(store: Store): Int32Array {
  let handles = new Int32Array(Math.max(16, store.currItems));
  let n = 0;
  store.forEachKey((_key, h) => {
    if (n === handles.length) {
      const bigger = new Int32Array(n * 2);
      bigger.set(handles);
      handles = bigger;
    }
    handles[n++] = h;
    return true;
  });
  return handles.subarray(0, n);
}

/**
 * Writes every live item as `render` has it, a slice per turn, then `trailer`. Stops early (and
 * rejects) when `write` rejects: the reader went away.
 */
export async function streamItems(
  store: Store,
  render: ItemRenderer,
  write: (text: string) => Promise<void>,
  trailer = "",
): Promise<void> {
  await nextTurn();
  const handles = noteItems(store);
  for (let i = 0; i < handles.length; i += SLICE) {
    let text = "";
    const stop = Math.min(handles.length, i + SLICE);
    for (let j = i; j < stop; j++) {
      const h = handles[j];
      const key = store.keyOf(h);
      if (store.peek(key) !== h) continue;
      const line = render(store, key, h);
      if (line !== null) text += line;
    }
    if (text !== "") await write(text);
    await nextTurn();
  }
  if (trailer !== "") await write(trailer);
}

/** `lru_crawler metadump`: memcached's line for an item, if its slab class is asked for. */
export function metadumpLine(classes: Set<number> | null): ItemRenderer {
  return (store, key, h) => {
    const cls = slabClassOf(ntotalOf(store, key, h));
    if (classes !== null && !classes.has(cls)) return null;
    const exp = store.exptimeOf(h);
    return `key=${uriEncode(key)} exp=${exp === 0 ? -1 : exp} la=${store.lastAccessOf(h)} ` +
      `cas=${store.casOf(h)} fetch=${(store.bitsOf(h) & FETCHED) !== 0 ? "yes" : "no"} ` +
      `cls=${cls} size=${ntotalOf(store, key, h)}\n`;
  };
}

/** `lru_crawler mgdump` (memcached 1.6.19 on): an `mg` request line per key. */
export function mgdumpLine(classes: Set<number> | null): ItemRenderer {
  return (store, key, h) => {
    if (classes !== null && !classes.has(slabClassOf(ntotalOf(store, key, h)))) return null;
    return `mg ${latin1(key)}\r\n`;
  };
}

/** `GET /keys?stream=ndjson`: one JSON object per item. */
export const ndjsonLine: ItemRenderer = (store, key, h) => {
  const exp = store.exptimeOf(h);
  return JSON.stringify({
    key: latin1(key),
    size: store.valueOf(h).length,
    flags: store.flagsOf(h),
    exptime: exp,
    ttl: exp === 0 ? -1 : Math.max(0, exp - store.clock.now),
    lastAccess: store.lastAccessOf(h),
    cas: store.casOf(h).toString(),
    fetched: (store.bitsOf(h) & FETCHED) !== 0,
  }) + "\n";
};

/**
 * `stats cachedump <class> <limit>`: memcached's ITEM lines for one class (0 = no limit), at most
 * 2 MB of them, as memcached caps it. Synchronous, as in memcached; the cap bounds it.
 */
export function cachedump(store: Store, cls: number, limit: number): string {
  const CAP = 2 * 1024 * 1024;
  let out = "";
  let shown = 0;
  store.forEachKey((key, h) => {
    if (limit !== 0 && shown >= limit) return false;
    if (slabClassOf(ntotalOf(store, key, h)) !== cls) return true;
    const exp = store.exptimeOf(h);
    const line = `ITEM ${latin1(key)} [${store.valueOf(h).length} b; ${exp} s]\r\n`;
    if (out.length + line.length + 6 > CAP) return false;
    out += line;
    shown++;
    return true;
  });
  return out + "END\r\n";
}
