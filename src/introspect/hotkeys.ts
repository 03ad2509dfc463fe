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
  private readonly slots = new Map<string, { count: number; error: number }>();
  /** Reads until the next sample. */
  countdown: number;
  sampled = 0;
  private seed = 0x9e3779b9;

  constructor(readonly capacity = 256, readonly every = 16) {
    this.countdown = every;
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
    const slot = this.slots.get(name);
    if (slot !== undefined) {
      slot.count++;
      return;
    }
    if (this.slots.size < this.capacity) {
      this.slots.set(name, { count: 1, error: 0 });
      return;
    }
    let minKey = "";
    let min = Infinity;
    for (const [k, s] of this.slots) {
      if (s.count < min) {
        min = s.count;
        minKey = k;
      }
    }
    this.slots.delete(minKey);
    this.slots.set(name, { count: min + 1, error: min });
  }

  /** The `n` most counted keys, most counted first. */
  top(n: number): HotKey[] {
    return [...this.slots]
      .map(([key, s]) => ({ key, count: s.count, error: s.error }))
      .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1))
      .slice(0, n);
  }

  reset(): void {
    this.slots.clear();
    this.sampled = 0;
  }
}
