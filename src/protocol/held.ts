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
const cases: bigint[] = [];
let releaseQueued = false;

/** Notes that the answer being built for `session` refers to the item at `handle`. */
export function hold(session: object, store: Store, handle: number): void {
  if (owner !== session) release();
  owner = session;
  handles.push(handle);
  cases.push(store.casOf(handle));
  if (!releaseQueued) {
    releaseQueued = true;
    queueMicrotask(release);
  }
}

/** The answers were written: nothing is held any more. */
export function release(): void {
  owner = null;
  handles.length = 0;
  cases.length = 0;
  releaseQueued = false;
}

/** True when an answer of this batch holds the item now at `handle` (same handle, same CAS). */
export function isHeld(session: object, store: Store, handle: number): boolean {
  if (handle === -1 || owner !== session) return false;
  const cas = store.casOf(handle);
  for (let i = handles.length - 1; i >= 0; i--) {
    if (handles[i] === handle && cases[i] === cas) return true;
  }
  return false;
}
