/**
 * Hot keys: the Space-Saving algorithm (Metwally et al.) over a sample of reads. A fixed number of
 * counters is kept; a sampled key that has none takes over the smallest one, inheriting its count
 * as its possible overcount (`error`). Memory is bounded by `capacity` keys whatever the traffic,
 * and only one read in `every` (on average) is looked at, so the hot path pays a countdown. The
 * gaps are random: a fixed stride would see only one key of traffic that repeats with its period.
 */
import { latin1 } from "./items.ts";

export interface HotKey {
  key: string;
  /** Sampled reads counted for the key (an upper bound: the true count is at least count - error). */
  count: number;
  error: number;
}

export class HotKeys {
  private readonly names: string[] = [];
  private readonly counts: Float64Array;
  private readonly errors: Float64Array;
  private readonly index = new Map<string, number>();
  /** No count is below this: a slot at it is a minimum, so most searches stop early. */
  private floor = 0;
  private cursor = 0;
  /** Reads until the next sample. */
  countdown: number;
  sampled = 0;
  private seed = 0x9e3779b9;

  constructor(readonly capacity = 256, readonly every = 32) {
    this.countdown = every;
    this.counts = new Float64Array(capacity);
    this.errors = new Float64Array(capacity);
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
    this.sampled++;
    const name = latin1(key);
    const at = this.index.get(name);
    if (at !== undefined) {
      this.counts[at]++;
      return;
    }
    let slot = this.names.length;
    if (slot < this.capacity) {
      this.names.push(name);
      this.counts[slot] = 0;
    } else {
      slot = this.smallest();
      this.index.delete(this.names[slot]);
      this.names[slot] = name;
    }
    this.index.set(name, slot);
    this.errors[slot] = this.counts[slot];
    this.counts[slot]++;
  }

  /** A slot with the smallest count: the first at the floor from the cursor on, else a full scan. */
  private smallest(): number {
    const n = this.capacity;
    let best = 0;
    let bestCount = Infinity;
    for (let k = 0; k < n; k++) {
      const i = (this.cursor + k) % n;
      const c = this.counts[i];
      if (c <= this.floor) {
        this.cursor = (i + 1) % n;
        return i;
      }
      if (c < bestCount) {
        bestCount = c;
        best = i;
      }
    }
    this.floor = bestCount;
    this.cursor = (best + 1) % n;
    return best;
  }

  /** The `n` most counted keys, most counted first. */
  top(n: number): HotKey[] {
    return this.names
      .map((key, i) => ({ key, count: this.counts[i], error: this.errors[i] }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
      .slice(0, n);
  }

  reset(): void {
    this.names.length = 0;
    this.index.clear();
    this.floor = 0;
    this.cursor = 0;
    this.sampled = 0;
  }
}
