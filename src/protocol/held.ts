/**
 * Items a pending answer still holds. memcached keeps a reference to every item a get, gat, touch
 * or mg answered with until it writes the answers out: at the end of a batch, on `mn` or a binary
 * noop, and after every REQS_PER_EVENT requests of one read. An incr/decr on a held item writes a
 * new item instead of updating it in place: exact length, no stale/win/fetched bits. Processing a
 * batch is synchronous, so a microtask marks its end.
 */
import type { Store } from "../store/store.ts";

/**
 * memcached's -R (reqs_per_event, 20): after the first request of a read, it handles this many
 * more, then writes out and yields, and then this many at a time.
 */
export const REQS_PER_EVENT = 20;

let owner: object | null = null;
const handles: number[] = [];
const tags: number[] = [];
let releaseQueued = false;

/** Notes that the answer being built for `session` refers to the item at `handle`. */
export function hold(session: object, store: Store, handle: number): void {
  if (owner !== session) release();
  owner = session;
  handles.push(handle);
  tags.push(store.casTagOf(handle));
  if (!releaseQueued) {
    releaseQueued = true;
    queueMicrotask(release);
  }
}

/** The answers were written: nothing is held any more. */
export function release(): void {
  owner = null;
  releaseQueued = false;
  // Every get ends with a release and most hold nothing: setting an array's length calls into the
  // runtime even when it is already 0 (about 5% of a get's time).
  if (handles.length === 0) return;
  handles.length = 0;
  tags.length = 0;
}

/** True when an answer of this batch holds the item now at `handle` (same handle, same CAS). */
export function isHeld(session: object, store: Store, handle: number): boolean {
  if (handle === -1 || owner !== session) return false;
  const tag = store.casTagOf(handle);
  for (let i = handles.length - 1; i >= 0; i--) {
    if (handles[i] === handle && tags[i] === tag) return true;
  }
  return false;
}

/** isHeld for the item under `key`; looks the key up only when this session holds anything. */
export function isKeyHeld(session: object, store: Store, key: Uint8Array): boolean {
  return owner === session && isHeld(session, store, store.peek(key));
}
