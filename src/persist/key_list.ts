/**
 * The live keys, most recently used first, listed without pausing clients for long: the store is
 * walked a few milliseconds per turn (copying each key with its last access and CAS), and the copy
 * is sorted by radix passes, a few milliseconds per turn. A key changed or gone between slices is fine for a snapshot: the
 * log started before it holds every change, and the snapshot reads each item again when it writes.
 */
import type { Store } from "../store/store.ts";

/** Work per turn before the clock is looked at again; a turn ends after TURN_MS. */
const SLOTS_PER_STEP = 512;
const KEYS_PER_STEP = 8_192;
const TURN_MS = 4;
const DIGIT_BITS = 16;
const DIGITS = 1 << DIGIT_BITS;

export interface KeyList {
  bytes: Uint8Array;
  /** Key i is bytes[offsets[order[i]] .. offsets[order[i] + 1]). */
  offsets: Uint32Array;
  order: Uint32Array;
  count: number;
}

/**
 * Lists the live keys by recency (last access to the second, then CAS: most recent first, so a
 * restore into a smaller -m keeps the most recent). `pause` is told how long each turn's work
 * took, and `yieldTurn` lets other work run between turns.
 */
export async function listKeysByRecency(
  store: Store,
  pause: (ms: number) => void,
  yieldTurn: () => Promise<void>,
): Promise<KeyList> {
  // Sized for the items there now, so that growing (a copy in one turn) is rare.
  const expected = store.currItems + 1024;
  let bytes = new Uint8Array(expected * 32);
  let offsets = new Uint32Array(expected + 1);
  let access = new Uint32Array(expected);
  let cas = new Uint32Array(expected);
  let count = 0;
  let used = 0;
  const grow = <T extends Uint8Array | Uint32Array>(a: T, need: number): T => {
    if (need <= a.length) return a;
    const bigger = new (a.constructor as new (n: number) => T)(Math.max(a.length * 2, need));
    bigger.set(a);
    return bigger;
  };
  const copy = (key: Uint8Array, h: number) => {
    bytes = grow(bytes, used + key.length);
    offsets = grow(offsets, count + 2);
    access = grow(access, count + 1);
    cas = grow(cas, count + 1);
    bytes.set(key, used);
    access[count] = store.lastAccessOf(h);
    cas[count] = store.casTagOf(h);
    used += key.length;
    offsets[++count] = used;
  };
  for (let from = 0; from !== -1;) {
    const started = performance.now();
    do from = store.forEachKeyInSlots(from, SLOTS_PER_STEP, copy); while (
      from !== -1 && performance.now() - started < TURN_MS
    );
    store.release();
    pause(performance.now() - started);
    await yieldTurn();
  }
  let order = new Uint32Array(count);
  let sorted = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const counts = new Uint32Array(DIGITS + 1);
  // Least significant digit first, each pass stable, digits inverted for a descending order; a
  // pass counts, then places, KEYS_PER_TURN keys a turn.
  for (const [key, shift] of [[cas, 0], [cas, 16], [access, 0], [access, 16]] as const) {
    const digit = (i: number) => DIGITS - 1 - ((key[i] >>> shift) & (DIGITS - 1));
    counts.fill(0);
    for (const place of [false, true]) {
      if (place) { for (let d = 0; d < DIGITS; d++) counts[d + 1] += counts[d]; }
      for (let from = 0; from < count;) {
        const started = performance.now();
        do {
          const to = Math.min(count, from + KEYS_PER_STEP);
          if (place) {
            for (let i = from; i < to; i++) sorted[counts[digit(order[i])]++] = order[i];
          } else for (let i = from; i < to; i++) counts[digit(order[i]) + 1]++;
          from = to;
        } while (from < count && performance.now() - started < TURN_MS);
        pause(performance.now() - started);
        await yieldTurn();
      }
    }
    [order, sorted] = [sorted, order];
  }
  return { bytes, offsets, order, count };
}
