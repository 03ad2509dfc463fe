/**
 * memcached's slab classes, used here only to report: the store has no classes (items of any size
 * share the segments), but `stats items` and `stats slabs` are read per class by clients and
 * dashboards, so items are counted under the class memcached would put them in (chunk sizes from
 * 96 bytes, factor 1.25, up to slab_chunk_max 512 KB; larger items go to the last class, as
 * memcached chains them from it).
 */
import type { Counters } from "../stats.ts";
import type { SharedMemory } from "./memory.ts";

const FACTOR = 1.25;
const SMALLEST = 96;
const CHUNK_MAX = 512 * 1024;

function chunkSizes(): number[] {
  const sizes: number[] = [];
  for (let s = SMALLEST; s <= CHUNK_MAX / FACTOR;) {
    sizes.push(s);
    s = Math.ceil((s * FACTOR) / 8) * 8;
  }
  sizes.push(CHUNK_MAX);
  return sizes;
}

/** Chunk size by class id (id 0 unused, as in memcached). */
export const CHUNK_SIZES: readonly number[] = [0, ...chunkSizes()];
/** The highest class id (39 with memcached's defaults). */
export const LARGEST_CLASS = CHUNK_SIZES.length - 1;
const LAST = LARGEST_CLASS;

/** The class memcached stores an item of `total` bytes (ITEM_ntotal) in. */
export function classOf(total: number): number {
  let lo = 1;
  let hi = LAST;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (CHUNK_SIZES[mid] < total) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const FIGURES = 8;

/** Per-class figures, counted as items come and go, in memory every worker thread shares. */
export class ClassStats {
  readonly number: Float64Array;
  readonly bytes: Float64Array;
  readonly evicted: Float64Array;
  readonly evictedUnfetched: Float64Array;
  readonly evictedActive: Float64Array;
  readonly expiredUnfetched: Float64Array;
  readonly reclaimed: Float64Array;
  readonly crawlerReclaimed: Float64Array;

  constructor(memory: SharedMemory) {
    const sab = memory.take("classes", FIGURES * (LAST + 1) * 8);
    const figure = (i: number) => new Float64Array(sab, i * (LAST + 1) * 8, LAST + 1);
    this.number = figure(0);
    this.bytes = figure(1);
    this.evicted = figure(2);
    this.evictedUnfetched = figure(3);
    this.evictedActive = figure(4);
    this.expiredUnfetched = figure(5);
    this.reclaimed = figure(6);
    this.crawlerReclaimed = figure(7);
  }

  add(total: number, sign: 1 | -1): number {
    const cls = classOf(total);
    this.number[cls] += sign;
    this.bytes[cls] += sign * total;
    return cls;
  }

  /** A dead item's memory reused by the eviction walk. */
  countReclaim(c: Counters, cls: number, unfetched: boolean): void {
    c.direct_reclaims++;
    this.countDead(c, cls, unfetched);
  }

  /**
   * A dead item (expired or flushed) unlinked before any read met it, as memcached's LRU tail
   * counts it: by a write that takes its place, the sweep, or the eviction walk.
   */
  countDead(c: Counters, cls: number, unfetched: boolean): void {
    c.reclaimed++;
    this.reclaimed[cls]++;
    if (unfetched) {
      c.expired_unfetched++;
      this.expiredUnfetched[cls]++;
    }
  }

  /** A live item thrown out; `active` when it was read in the last minute. */
  countEviction(c: Counters, cls: number, fetched: boolean, active: boolean): void {
    c.direct_reclaims++;
    c.evictions++;
    this.evicted[cls]++;
    if (!fetched) {
      c.evicted_unfetched++;
      this.evictedUnfetched[cls]++;
    } else if (active) {
      c.evicted_active++;
      this.evictedActive[cls]++;
    }
  }

  clearItems(): void {
    this.number.fill(0);
    this.bytes.fill(0);
  }
}

/** A stat line as the reports print it. */
export type ClassRow = [string, number];

/**
 * `stats items` rows for every class holding items. memcached's HOT/WARM/COLD and age figures
 * have no counterpart here and are left out rather than made up.
 */
export function itemRows(k: ClassStats): ClassRow[] {
  const rows: ClassRow[] = [];
  for (let c = 1; c <= LAST; c++) {
    if (k.number[c] === 0) continue;
    const p = `items:${c}:`;
    rows.push(
      [p + "number", k.number[c]],
      [p + "mem_requested", k.bytes[c]],
      [p + "evicted", k.evicted[c]],
      [p + "evicted_unfetched", k.evictedUnfetched[c]],
      [p + "evicted_active", k.evictedActive[c]],
      [p + "expired_unfetched", k.expiredUnfetched[c]],
      [p + "reclaimed", k.reclaimed[c]],
      [p + "crawler_reclaimed", k.crawlerReclaimed[c]],
    );
  }
  return rows;
}

/**
 * `stats slabs` rows for every class holding items: its chunk size and how many items and bytes
 * it would hold. Items take only their own bytes in the segments, so there are no per-class pages
 * or free chunks to report; `total_malloced` is the segments in use.
 */
export function slabRows(k: ClassStats, mallocedBytes: number): ClassRow[] {
  const rows: ClassRow[] = [];
  let active = 0;
  for (let c = 1; c <= LAST; c++) {
    if (k.number[c] === 0) continue;
    active++;
    rows.push(
      [`${c}:chunk_size`, CHUNK_SIZES[c]],
      [`${c}:used_chunks`, k.number[c]],
      [`${c}:mem_requested`, k.bytes[c]],
    );
  }
  rows.push(["active_slabs", active], ["total_malloced", mallocedBytes]);
  return rows;
}
