/**
 * Item metadata in flat typed arrays indexed by slot, and the chained hash index over slots. No
 * JavaScript object exists per item: a slot number is the item's handle. Where the item's bytes
 * live (segment and offset) is recorded here; the bytes themselves are in segments.ts.
 *
 * Every array is a view of a growable SharedArrayBuffer (memory.ts), so all worker threads see
 * one index; `remap` rebuilds the views after another thread grew them.
 */
import { MAX_GROWABLE_BYTES, type SharedMemory } from "./memory.ts";

const INITIAL_BUCKETS = 1 << 16;
/** Items per hash bucket on average before the table doubles (memcached uses 1.5 too). */
const LOAD_FACTOR = 1.5;

type Ints = Uint8Array | Uint32Array | Int32Array;
const FIELDS = {
  keyLen: Uint8Array,
  valueLen: Uint32Array,
  flags: Uint32Array,
  exptime: Uint32Array,
  storedAt: Uint32Array,
  lastAccess: Uint32Array,
  casLo: Uint32Array,
  casHi: Uint32Array,
  bits: Uint8Array,
  freq: Uint8Array,
  queue: Uint8Array,
  seg: Int32Array,
  pos: Uint32Array,
  hashes: Int32Array,
  chain: Int32Array,
} as const;
type Field = keyof typeof FIELDS;

// Shared numbers.
const TOP = 0;
const COUNT = 1;
const FREE = 2;
const CAPACITY = 3;
const BUCKETS = 4;

export class Slots {
  // Per slot. A free slot has keyLen 0 and links the free list through `chain`.
  keyLen!: Uint8Array;
  valueLen!: Uint32Array;
  flags!: Uint32Array;
  exptime!: Uint32Array;
  storedAt!: Uint32Array;
  lastAccess!: Uint32Array;
  casLo!: Uint32Array;
  casHi!: Uint32Array;
  /** FETCHED / STALE / WIN_SENT (types.ts). */
  bits!: Uint8Array;
  /** Reads since the item was written or last given a second chance (0..3). */
  freq!: Uint8Array;
  /** The eviction queue the item is in (log.ts). */
  queue!: Uint8Array;
  /** Where the item's record is: segment and byte offset in it. */
  seg!: Int32Array;
  pos!: Uint32Array;
  hashes!: Int32Array;
  chain!: Int32Array;
  buckets!: Int32Array;
  private mask = 0;

  private readonly n: Float64Array;
  private readonly sabs = {} as Record<Field, SharedArrayBuffer>;
  private readonly bucketSab: SharedArrayBuffer;

  constructor(private readonly memory: SharedMemory, capacity: number) {
    this.n = memory.scalars("slots", 5);
    for (const name of Object.keys(FIELDS) as Field[]) {
      const bytes = FIELDS[name].BYTES_PER_ELEMENT;
      this.sabs[name] = memory.take(`slots.${name}`, capacity * bytes, MAX_GROWABLE_BYTES);
    }
    this.bucketSab = memory.take("slots.buckets", INITIAL_BUCKETS * 4, MAX_GROWABLE_BYTES);
    if (memory.creator) {
      this.n[CAPACITY] = capacity;
      this.n[BUCKETS] = INITIAL_BUCKETS;
      this.n[FREE] = -1;
      new Int32Array(this.bucketSab).fill(-1);
    }
    this.remap();
  }

  /** Slots ever handed out (the rest of the arrays is untouched). */
  get top(): number {
    return this.n[TOP];
  }
  get count(): number {
    return this.n[COUNT];
  }

  /** Rebuilds the views at the shared sizes (after another thread grew the arrays). */
  remap(): void {
    const capacity = this.n[CAPACITY];
    if (this.keyLen?.length !== capacity) {
      const self = this as unknown as Record<Field, Ints>;
      for (const name of Object.keys(FIELDS) as Field[]) {
        const View = FIELDS[name] as unknown as new (
          b: SharedArrayBuffer,
          o: number,
          n: number,
        ) => Ints;
        self[name] = new View(this.sabs[name], 0, capacity);
      }
    }
    const buckets = this.n[BUCKETS];
    if (this.buckets?.length !== buckets) {
      this.buckets = new Int32Array(this.bucketSab, 0, buckets);
      this.mask = buckets - 1;
    }
  }

  /** First slot in the chain of `hash`; follow `chain` to -1. */
  bucketHead(hash: number): number {
    return this.buckets[hash & this.mask];
  }

  /** A slot indexed under `hash`, with its key length set. */
  link(hash: number, keyLength: number): number {
    const n = this.n;
    let h = n[FREE];
    if (h !== -1) {
      n[FREE] = this.chain[h];
    } else {
      if (n[TOP] === n[CAPACITY]) this.grow(n[CAPACITY] * 2);
      h = n[TOP]++;
    }
    this.keyLen[h] = keyLength;
    this.hashes[h] = hash;
    const b = hash & this.mask;
    this.chain[h] = this.buckets[b];
    this.buckets[b] = h;
    n[COUNT]++;
    if (n[COUNT] > this.buckets.length * LOAD_FACTOR) this.rehash();
    return h;
  }

  /** Removes a slot from the index and frees it. */
  unlink(h: number): void {
    const b = this.hashes[h] & this.mask;
    let p = this.buckets[b];
    if (p === h) {
      this.buckets[b] = this.chain[h];
    } else {
      while (this.chain[p] !== h) p = this.chain[p];
      this.chain[p] = this.chain[h];
    }
    this.n[COUNT]--;
    this.keyLen[h] = 0;
    this.seg[h] = -1;
    this.chain[h] = this.n[FREE];
    this.n[FREE] = h;
  }

  /** Forgets every item (flush_all). */
  clear(): void {
    const n = this.n;
    this.buckets.fill(-1);
    this.keyLen.fill(0, 0, n[TOP]);
    this.seg.fill(-1, 0, n[TOP]);
    n[TOP] = 0;
    n[COUNT] = 0;
    n[FREE] = -1;
  }

  private grow(capacity: number): void {
    for (const name of Object.keys(FIELDS) as Field[]) {
      this.memory.grow(this.sabs[name], capacity * FIELDS[name].BYTES_PER_ELEMENT);
    }
    this.n[CAPACITY] = capacity;
    this.remap();
  }

  /**
   * Doubles the hash table in place: each old bucket's chain splits between it and its twin in
   * the new half, by the one more bit of the stored hash the new mask reads.
   */
  private rehash(): void {
    const old = this.n[BUCKETS];
    this.memory.grow(this.bucketSab, old * 2 * 4);
    this.n[BUCKETS] = old * 2;
    this.remap();
    const buckets = this.buckets;
    buckets.fill(-1, old);
    for (let b = 0; b < old; b++) {
      let h = buckets[b];
      buckets[b] = -1;
      while (h !== -1) {
        const next = this.chain[h];
        const nb = this.hashes[h] & this.mask;
        this.chain[h] = buckets[nb];
        buckets[nb] = h;
        h = next;
      }
    }
  }
}
