/**
 * Keys (or key prefixes) by slot, in shared memory, with a hash index to find a slot by its bytes:
 * what the hot-key sampler and `stats detail` count under, shared by every thread. Fixed size: a
 * slot keeps up to MAX_KEY_LENGTH bytes, and the index (open addressing, linear probing) has twice
 * as many cells as there are slots. Callers hold their table's lock around every call.
 */
import { MAX_KEY_LENGTH } from "../store/types.ts";
import { latin1 } from "./items.ts";

export class KeyIndex {
  private readonly hashes: Int32Array;
  private readonly lengths: Int32Array;
  private readonly index: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly mask: number;

  /** Bytes of shared memory for `capacity` slots. */
  static bytes(capacity: number): number {
    return capacity * 8 + indexSize(capacity) * 4 + capacity * MAX_KEY_LENGTH;
  }

  constructor(buffer: SharedArrayBuffer, offset: number, readonly capacity: number) {
    const cells = indexSize(capacity);
    this.mask = cells - 1;
    this.hashes = new Int32Array(buffer, offset, capacity);
    this.lengths = new Int32Array(buffer, offset + capacity * 4, capacity);
    this.index = new Int32Array(buffer, offset + capacity * 8, cells);
    this.bytes = new Uint8Array(
      buffer,
      offset + capacity * 8 + cells * 4,
      capacity * MAX_KEY_LENGTH,
    );
  }

  /** The slot holding `key` (hashed to `hash`), or -1. */
  find(key: Uint8Array, hash: number): number {
    const n = Math.min(key.length, MAX_KEY_LENGTH);
    for (let i = hash & this.mask;; i = (i + 1) & this.mask) {
      const e = this.index[i];
      if (e === 0) return -1;
      const slot = e - 1;
      if (this.hashes[slot] === hash && this.lengths[slot] === n && this.holds(slot, key, n)) {
        return slot;
      }
    }
  }

  private holds(slot: number, key: Uint8Array, n: number): boolean {
    const at = slot * MAX_KEY_LENGTH;
    for (let i = 0; i < n; i++) if (this.bytes[at + i] !== key[i]) return false;
    return true;
  }

  /** Puts `key` in `slot` (free, or given up by `remove`) and indexes it. */
  put(slot: number, key: Uint8Array, hash: number): void {
    const n = Math.min(key.length, MAX_KEY_LENGTH);
    this.bytes.set(key.subarray(0, n), slot * MAX_KEY_LENGTH);
    this.lengths[slot] = n;
    this.hashes[slot] = hash;
    let i = hash & this.mask;
    while (this.index[i] !== 0) i = (i + 1) & this.mask;
    this.index[i] = slot + 1;
  }

  /** Takes `slot` out of the index, moving later cells of its run back (no tombstones). */
  remove(slot: number): void {
    const mask = this.mask;
    let hole = this.hashes[slot] & mask;
    while (this.index[hole] !== slot + 1) hole = (hole + 1) & mask;
    this.index[hole] = 0;
    for (let j = (hole + 1) & mask; this.index[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[this.index[j] - 1] & mask;
      // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      this.index[hole] = this.index[j];
      this.index[j] = 0;
      hole = j;
    }
  }

  /** The key in `slot`, one char per byte. */
  keyOf(slot: number): string {
    const at = slot * MAX_KEY_LENGTH;
    return latin1(this.bytes.slice(at, at + this.lengths[slot]));
  }

  clear(): void {
    this.index.fill(0);
  }
}

/** Twice the slots, rounded up to a power of two. */
function indexSize(capacity: number): number {
  let n = 2;
  while (n < capacity * 2) n *= 2;
  return n;
}
