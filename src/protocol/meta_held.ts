/**
 * Items an mg answer still holds. memcached keeps a reference to every item an mg returned until
 * the batch's answers are written (or an mn flushes them), and an incr/decr on a referenced item
 * writes a new item instead of updating it in place: exact length, no stale/win/fetched bits.
 * Processing a batch is synchronous, so a microtask marks its end.
 */
import type { Store } from "../store/store.ts";
import type { TextSession } from "./text.ts";

let owner: TextSession | null = null;
const handles: number[] = [];
const cases: bigint[] = [];
let releaseQueued = false;

/** Notes that the answer being built for `session` refers to the item at `handle`. */
export function hold(session: TextSession, store: Store, handle: number): void {
  if (owner !== session) release();
  owner = session;
  handles.push(handle);
  cases.push(store.casOf(handle));
  if (!releaseQueued) {
    releaseQueued = true;
    queueMicrotask(release);
  }
}

/** The answers were written (end of batch, or mn): nothing is held any more. */
export function release(): void {
  owner = null;
  handles.length = 0;
  cases.length = 0;
  releaseQueued = false;
}

/** True when an answer of this batch holds the item now at `handle` (same handle, same CAS). */
export function isHeld(session: TextSession, store: Store, handle: number): boolean {
  if (owner !== session) return false;
  const cas = store.casOf(handle);
  for (let i = handles.length - 1; i >= 0; i--) {
    if (handles[i] === handle && cases[i] === cas) return true;
  }
  return false;
}
