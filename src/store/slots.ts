/**
 * Item metadata in flat typed arrays indexed by slot, and the chained hash index over slots. No
 * JavaScript object exists per item: a slot number is the item's handle. Where the item's bytes
 * live (segment and offset) is recorded here; the bytes themselves are in segments.ts.
 */
const INITIAL_BUCKETS = 1 << 16;
/** Items per hash bucket on average before the table doubles (memcached uses 1.5 too). */
const LOAD_FACTOR = 1.5;

export class Slots {
  // Per slot. A free slot has keyLen 0 and links the free list through `chain`.
  keyLen: Uint8Array;
  valueLen: Uint32Array;
  flags: Uint32Array;
  exptime: Uint32Array;
  storedAt: Uint32Array;
  lastAccess: Uint32Array;
  casLo: Uint32Array;
  casHi: Uint32Array;
  /** FETCHED / STALE / WIN_SENT (types.ts). */
  bits: Uint8Array;
  /** Reads since the item was written or last given a second chance (0..3). */
  freq: Uint8Array;
  /** The eviction queue the item is in (log.ts). */
  queue: Uint8Array;
  /** Where the item's record is: segment and byte offset in it. */
  seg: Int32Array;
  pos: Uint32Array;
  hashes: Int32Array;
  chain: Int32Array;

  /** Slots ever handed out (the rest of the arrays is untouched). */
  top = 0;
  count = 0;
  private freeSlot = -1;
  buckets: Int32Array;
  private mask: number;

  constructor(capacity: number) {
    this.keyLen = new Uint8Array(capacity);
    this.valueLen = new Uint32Array(capacity);
    this.flags = new Uint32Array(capacity);
    this.exptime = new Uint32Array(capacity);
    this.storedAt = new Uint32Array(capacity);
    this.lastAccess = new Uint32Array(capacity);
    this.casLo = new Uint32Array(capacity);
    this.casHi = new Uint32Array(capacity);
    this.bits = new Uint8Array(capacity);
    this.freq = new Uint8Array(capacity);
    this.queue = new Uint8Array(capacity);
    this.seg = new Int32Array(capacity);
    this.pos = new Uint32Array(capacity);
    this.hashes = new Int32Array(capacity);
    this.chain = new Int32Array(capacity);
    this.buckets = new Int32Array(INITIAL_BUCKETS).fill(-1);
    this.mask = INITIAL_BUCKETS - 1;
  }

  /** First slot in the chain of `hash`; follow `chain` to -1. */
  bucketHead(hash: number): number {
    return this.buckets[hash & this.mask];
  }

  /** A slot indexed under `hash`, with its key length set. */
  link(hash: number, keyLength: number): number {
    let h = this.freeSlot;
    if (h !== -1) {
      this.freeSlot = this.chain[h];
    } else {
      if (this.top === this.keyLen.length) this.grow(this.keyLen.length * 2);
      h = this.top++;
    }
    this.keyLen[h] = keyLength;
    this.hashes[h] = hash;
    const b = hash & this.mask;
    this.chain[h] = this.buckets[b];
    this.buckets[b] = h;
    this.count++;
    if (this.count > this.buckets.length * LOAD_FACTOR) this.rehash();
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
    this.count--;
    this.keyLen[h] = 0;
    this.seg[h] = -1;
    this.chain[h] = this.freeSlot;
    this.freeSlot = h;
  }

  /** Forgets every item (flush_all). */
  clear(): void {
    this.buckets.fill(-1);
    this.keyLen.fill(0, 0, this.top);
    this.seg.fill(-1, 0, this.top);
    this.top = 0;
    this.count = 0;
    this.freeSlot = -1;
  }

  private grow(capacity: number): void {
    const n = this.top;
    const grow = <T extends Uint8Array | Uint32Array | Int32Array>(
      a: T,
      make: (n: number) => T,
    ) => {
      const b = make(capacity);
      b.set(a.subarray(0, n) as never);
      return b;
    };
    const u8 = (c: number) => new Uint8Array(c);
    const u32 = (c: number) => new Uint32Array(c);
    const i32 = (c: number) => new Int32Array(c);
    this.keyLen = grow(this.keyLen, u8);
    this.valueLen = grow(this.valueLen, u32);
    this.flags = grow(this.flags, u32);
    this.exptime = grow(this.exptime, u32);
    this.storedAt = grow(this.storedAt, u32);
    this.lastAccess = grow(this.lastAccess, u32);
    this.casLo = grow(this.casLo, u32);
    this.casHi = grow(this.casHi, u32);
    this.bits = grow(this.bits, u8);
    this.freq = grow(this.freq, u8);
    this.queue = grow(this.queue, u8);
    this.seg = grow(this.seg, i32);
    this.pos = grow(this.pos, u32);
    this.hashes = grow(this.hashes, i32);
    this.chain = grow(this.chain, i32);
  }

  /** Doubles the hash table, relinking every item by its stored hash. */
  private rehash(): void {
    const size = this.buckets.length * 2;
    const buckets = new Int32Array(size).fill(-1);
    const mask = size - 1;
    const old = this.buckets;
    for (let b = 0; b < old.length; b++) {
      for (let h = old[b]; h !== -1;) {
        const next = this.chain[h];
        const nb = this.hashes[h] & mask;
        this.chain[h] = buckets[nb];
        buckets[nb] = h;
        h = next;
      }
    }
    this.buckets = buckets;
    this.mask = mask;
  }
}
