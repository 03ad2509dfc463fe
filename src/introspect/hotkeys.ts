/**
 * Hot keys: the Space-Saving algorithm (Metwally et al.) over a sample of reads. A fixed number of
 * counters is kept; a sampled key that has none takes over the smallest one, inheriting its count
 * as its possible overcount (`error`). Memory is bounded by `capacity` keys whatever the traffic,
 * and only one read in `every` (on average) is looked at, so the hot path pays a countdown. The
 * gaps are random: a fixed stride would see only one key of traffic that repeats with its period.
 * The counters live in shared memory under a lock of their own, so that at -t N every thread
 * samples into, and shows, the one table of the whole process.
 */
import { hashKey } from "../store/hash.ts";
import { lock, unlock } from "./mutex.ts";
import { KeyIndex } from "./key_index.ts";

export interface HotKey {
  key: string;
  /** Sampled reads counted for the key (an upper bound: the true count is at least count - error). */
  count: number;
  error: number;
}

// Int32 cells: the lock, the slots in use, where the next search for the smallest starts.
const LOCK = 0;
const SIZE = 1;
const CURSOR = 2;
// Float64 cells: no count is below the floor (a slot at it is a minimum, so most searches stop
// early), and the reads sampled since the last reset.
const FLOOR = 2;
const SAMPLED = 3;
const HEAD_BYTES = 32;
/** Keys the server's table keeps, and one read in how many it samples (on average). */
export const HOT_KEYS = 256;
export const SAMPLE_EVERY = 32;

export class HotKeys {
  private readonly cells: Int32Array;
  private readonly meta: Float64Array;
  private readonly counts: Float64Array;
  private readonly errors: Float64Array;
  private readonly keys: KeyIndex;
  /** Reads until the next sample (each thread counts down its own reads). */
  countdown: number;
  private seed: number;

  /** Bytes of shared memory a table of `capacity` keys takes. */
  static bytes(capacity: number): number {
    return HEAD_BYTES + capacity * 16 + KeyIndex.bytes(capacity);
  }

  /** `thread` varies the gaps between samples from one thread to the next. */
  constructor(
    readonly capacity = HOT_KEYS,
    readonly every = SAMPLE_EVERY,
    buffer = new SharedArrayBuffer(HotKeys.bytes(capacity)),
    thread = 0,
  ) {
    this.countdown = every;
    this.seed = (0x9e3779b9 ^ Math.imul(thread, 0x85ebca6b)) >>> 0 || 1;
    this.cells = new Int32Array(buffer, 0, HEAD_BYTES / 4);
    this.meta = new Float64Array(buffer, 0, HEAD_BYTES / 8);
    this.counts = new Float64Array(buffer, HEAD_BYTES, capacity);
    this.errors = new Float64Array(buffer, HEAD_BYTES + capacity * 8, capacity);
    this.keys = new KeyIndex(buffer, HEAD_BYTES + capacity * 16, capacity);
  }

  /** Reads sampled since the last reset, every thread's. */
  get sampled(): number {
    lock(this.cells, LOCK);
    const n = this.meta[SAMPLED];
    unlock(this.cells, LOCK);
    return n;
  }

  /** A gap of 1 to 2 * every - 1 reads (xorshift32): `every` on average. */
  private gap(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    return 1 + (this.seed % (2 * this.every - 1));
  }

  /** Counts one sampled read of `key` and rearms the countdown. */
  sample(key: Uint8Array): void {
    this.countdown = this.gap();
    const hash = hashKey(key);
    const cells = this.cells;
    lock(cells, LOCK);
    this.meta[SAMPLED]++;
    let slot = this.keys.find(key, hash);
    if (slot !== -1) {
      this.counts[slot]++;
      unlock(cells, LOCK);
      return;
    }
    slot = cells[SIZE];
    if (slot < this.capacity) {
      cells[SIZE] = slot + 1;
      this.counts[slot] = 0;
    } else {
      slot = this.smallest();
      this.keys.remove(slot);
    }
    this.keys.put(slot, key, hash);
    this.errors[slot] = this.counts[slot];
    this.counts[slot]++;
    unlock(cells, LOCK);
  }

  /** A slot with the smallest count: the first at the floor from the cursor on, else a full scan. */
  private smallest(): number {
    const n = this.capacity;
    const floor = this.meta[FLOOR];
    const cursor = this.cells[CURSOR];
    let best = 0;
    let bestCount = Infinity;
    for (let k = 0; k < n; k++) {
      const i = (cursor + k) % n;
      const c = this.counts[i];
      if (c <= floor) {
        this.cells[CURSOR] = (i + 1) % n;
        return i;
      }
      if (c < bestCount) {
        bestCount = c;
        best = i;
      }
    }
    this.meta[FLOOR] = bestCount;
    this.cells[CURSOR] = (best + 1) % n;
    return best;
  }

  /** The `n` most counted keys, most counted first. */
  top(n: number): HotKey[] {
    const found: HotKey[] = [];
    lock(this.cells, LOCK);
    for (let i = 0; i < this.cells[SIZE]; i++) {
      found.push({ key: this.keys.keyOf(i), count: this.counts[i], error: this.errors[i] });
    }
    unlock(this.cells, LOCK);
    return found.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)).slice(0, n);
  }

  reset(): void {
    lock(this.cells, LOCK);
    this.cells[SIZE] = 0;
    this.cells[CURSOR] = 0;
    this.meta[FLOOR] = 0;
    this.meta[SAMPLED] = 0;
    this.keys.clear();
    unlock(this.cells, LOCK);
  }
}
