/**
 * Snapshots: every live item (key, value, flags, absolute exptime, CAS, meta bits) from the most to
 * the least recently used, after a flush record when a delayed flush_all is pending. A snapshot is
 * written to a temporary file, synced, then renamed, so a snapshot file is always whole.
 */
import type { Store } from "../store/store.ts";
import { magicBytes, putItem, RecordBuffer, SNAPSHOT_MAGIC } from "./record.ts";
import { listKeysByRecency } from "./key_list.ts";

/** Bytes gathered before a write. */
const CHUNK = 1 << 20;

export interface SnapshotResult {
  items: number;
  bytes: number;
  ms: number;
  /** The longest stretch clients waited: listing the keys, or one slice. */
  pauseMs: number;
}

function begin(store: Store, flushDeadline: number): RecordBuffer {
  const out = new RecordBuffer(CHUNK * 2);
  if (flushDeadline > store.clock.now) out.flush(store.clock.now, flushDeadline);
  return out;
}

/** Writes the snapshot in one go (a clean stop: no client is waiting any more). */
export function writeSnapshotSync(
  store: Store,
  path: string,
  flushDeadline: number,
): SnapshotResult {
  const started = performance.now();
  const tmp = `${path}.tmp`;
  const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  let bytes = 0;
  let items = 0;
  try {
    const write = (data: Uint8Array) => {
      for (let off = 0; off < data.length;) off += file.writeSync(data.subarray(off));
      bytes += data.length;
    };
    write(magicBytes(SNAPSHOT_MAGIC));
    const out = begin(store, flushDeadline);
    const now = store.clock.now;
    for (const h of handlesByRecency(store)) {
      putItem(out, store, store.keyOf(h), h, now);
      items++;
      if (out.length >= CHUNK) write(out.take());
    }
    write(out.take());
    file.syncDataSync();
  } catch (err) {
    discardTmp(tmp);
    throw err;
  } finally {
    file.close();
  }
  publish(tmp, path);
  const ms = performance.now() - started;
  return { items, bytes, ms, pauseMs: ms };
}

/**
 * Writes the snapshot while clients keep being served: the keys are listed and sorted a slice per
 * turn (key_list.ts), then items are read and written a slice at a time; `pauseMs` is the longest
 * of those turns, measured by the bench. An item changed
 * meanwhile is written as it is when its turn comes; the log started before this snapshot holds
 * every such change, and replaying it over the snapshot ends in the same state.
 */
export async function writeSnapshotSliced(
  store: Store,
  path: string,
  flushDeadline: number,
  sliceMs = 4,
): Promise<SnapshotResult> {
  const started = performance.now();
  let pauseMs = 0;
  const keys = await listKeysByRecency(
    store,
    (ms) => (pauseMs = Math.max(pauseMs, ms)),
    () => new Promise((r) => setTimeout(r, 0)),
  );
  const tmp = `${path}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  let bytes = 0;
  let items = 0;
  try {
    const write = async (data: Uint8Array) => {
      for (let off = 0; off < data.length;) off += await file.write(data.subarray(off));
      bytes += data.length;
    };
    await write(magicBytes(SNAPSHOT_MAGIC));
    const out = begin(store, flushDeadline);
    let i = 0;
    while (i < keys.count) {
      const sliceStart = performance.now();
      const sliceEnd = sliceStart + sliceMs;
      const now = store.clock.now;
      while (i < keys.count && out.length < CHUNK && performance.now() < sliceEnd) {
        for (let j = 0; j < 64 && i < keys.count; j++, i++) {
          const k = keys.order[i];
          const key = keys.bytes.subarray(keys.offsets[k], keys.offsets[k + 1]);
          const h = store.peek(key);
          if (h === -1) continue;
          putItem(out, store, key, h, now);
          items++;
        }
      }
      pauseMs = Math.max(pauseMs, performance.now() - sliceStart);
      if (out.length >= CHUNK) await write(out.take());
      else await new Promise((r) => setTimeout(r, 0));
    }
    await write(out.take());
    await file.syncData();
  } catch (err) {
    discardTmp(tmp);
    throw err;
  } finally {
    file.close();
  }
  publish(tmp, path);
  return { items, bytes, ms: performance.now() - started, pauseMs };
}

/**
 * The live items' handles, most recently used first (the snapshot of a clean stop, when nothing
 * else runs). The store knows their last access to the second, so they are sorted by it, the most
 * recently written first within a second (CAS order): a restore into a smaller -m keeps the most
 * recent.
 */
function handlesByRecency(store: Store): Int32Array {
  const handles = new Int32Array(store.currItems);
  let n = 0;
  store.forEachKey((_key, h) => {
    if (n < handles.length) handles[n++] = h;
    return true;
  });
  return handles.subarray(0, n).sort((a, b) =>
    store.lastAccessOf(b) - store.lastAccessOf(a) || store.casTagOf(b) - store.casTagOf(a)
  );
}

/** Removes what a failed snapshot left behind, so it does not hold on to a full disk. */
function discardTmp(tmp: string): void {
  try {
    Deno.removeSync(tmp);
  } catch { /* not there */ }
}

/** Renames a synced temporary file into place and syncs the directory that names it. */
export function publish(tmp: string, path: string): void {
  Deno.renameSync(tmp, path);
  syncDir(path);
}

export function syncDir(path: string): void {
  const slash = path.lastIndexOf("/");
  const dir = slash <= 0 ? (slash === 0 ? "/" : ".") : path.slice(0, slash);
  try {
    const d = Deno.openSync(dir, { read: true });
    try {
      d.syncSync();
    } finally {
      d.close();
    }
  } catch { /* some file systems cannot sync a directory; the rename is still atomic */ }
}
