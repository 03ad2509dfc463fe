import type { Clock } from "../clock.ts";
import { Counters } from "../stats.ts";
import { joinCas } from "./decimal.ts";
import { hashKey } from "./hash.ts";
import { type ClassRow, type ClassStats, itemRows, slabRows } from "./classes.ts";
import { ItemLog } from "./log.ts";
import type { Slots } from "./slots.ts";
import {
  CAS_BYTES,
  FETCHED,
  ITEM_HEADER_BYTES,
  REALTIME_MAXDELTA,
  STALE,
  type StoreOptions,
  WIN_SENT,
} from "./types.ts";

const TWO_32 = 4294967296;

/** Sees one read in many: `sample` is called with the key when `countdown` reaches 0. */
export interface ReadSampler {
  countdown: number;
  sample(key: Uint8Array): void;
}

/** One item to write: `old` is the slot it replaces (-1 for none), `newCas` 0 for the next. */
interface PutRequest {
  hash: number;
  key: Uint8Array;
  value: Uint8Array;
  flags: number;
  exptime: number;
  newCas?: bigint;
  old: number;
}

/**
 * The state of the cache and the commands that only read it: lookups, counted gets and touches,
 * and the accessors the doors read a handle with. The write commands build on it in cache.ts.
 */
export class CacheCore {
  readonly counters = new Counters();
  readonly options: StoreOptions;
  readonly clock: Clock;
  /** Result of the last successful incr/decr. */
  lastNumber = 0n;
  protected lastCasLo = 0;
  protected lastCasHi = 0;
  protected readonly log: ItemLog;
  /** Hash of the key of the last find, so a store that follows need not hash again. */
  protected foundHash = 0;
  protected casCounter = 0;
  protected sweepTimer: ReturnType<typeof setInterval> | undefined;
  protected sweepCursor = 0;
  /**
   * Counts the reads of get and lookup, for the hot-key sampler. A field the two methods check
   * rather than a wrapper around them: a wrapper on every read cost a closure and a bound call.
   */
  sampler: ReadSampler | null = null;

  constructor(clock: Clock, options: StoreOptions) {
    this.clock = clock;
    this.options = { ...options };
    this.log = new ItemLog(clock, this.counters, {
      maxBytes: options.maxBytes,
      itemSizeMax: options.itemSizeMax,
      evict: options.evict,
      itemOverhead: ITEM_HEADER_BYTES + (options.casEnabled ? CAS_BYTES : 0),
    });
  }

  protected get s(): Slots {
    return this.log.slots;
  }

  get bytes(): number {
    return this.log.usedBytes;
  }
  get currItems(): number {
    return this.s.count;
  }
  get maxBytes(): number {
    return this.options.maxBytes;
  }
  /** Bytes of segments holding items (memcached's total_malloced). */
  get mallocedBytes(): number {
    return this.log.segments.inUse * this.log.segments.size;
  }
  /** Buckets of the hash table (memcached's 2^hash_power_level). */
  get hashBuckets(): number {
    return this.s.buckets.length;
  }
  /** Segments allocated and free for items of any size (memcached's slab_global_page_pool). */
  get freePages(): number {
    const segs = this.log.segments;
    return segs.allocatedBytes / segs.size - segs.inUse;
  }
  /** `stats items` and `stats slabs` figures per memcached size class (classes.ts). */
  get classStats(): ClassStats {
    return this.log.classes;
  }
  /**
   * Called with the handle of each live item about to be evicted, before it goes (null: nobody
   * asks). The handle's accessors may be read; the store must not be changed from it.
   */
  set onEvict(listener: ((handle: number) => void) | null) {
    this.log.onEvict = listener;
  }

  /** Makes every CAS the counter hands out from now on greater than `cas` (a restore calls it). */
  raiseCasFloor(cas: bigint): void {
    if (cas > BigInt(this.casCounter)) this.casCounter = Number(cas);
  }
  /** `stats items` rows, per memcached size class. */
  itemRows(): ClassRow[] {
    return itemRows(this.log.classes);
  }
  /** `stats slabs` rows, per memcached size class. */
  slabRows(): ClassRow[] {
    return slabRows(this.log.classes, this.mallocedBytes);
  }

  /**
   * `cache_memlimit`: raising it allocates nothing at once; lowering it evicts down to it at once.
   */
  setMaxBytes(bytes: number): void {
    this.options.maxBytes = bytes;
    this.log.setMaxBytes(bytes);
  }

  /** Bytes an item occupies as memcached's ITEM_ntotal counts them. */
  itemSize(keyLength: number, valueLength: number, flags: number): number {
    return this.log.itemSize(keyLength, valueLength, flags);
  }

  /** CAS of the item written by the last successful store/arith/touch call. */
  get lastCas(): bigint {
    return joinCas(this.lastCasHi, this.lastCasLo);
  }
  set lastCas(cas: bigint) {
    this.lastCasLo = Number(cas & 0xffffffffn);
    this.lastCasHi = Number((cas >> 32n) & 0xffffffffn);
  }

  /** True when such an item exceeds `-I`: the door must refuse it. */
  tooLarge(keyLength: number, valueLength: number, flags: number): boolean {
    return this.itemSize(keyLength, valueLength, flags) > this.options.itemSizeMax;
  }

  /** Converts a memcached exptime (relative, absolute or negative) into absolute unix seconds. */
  absoluteExptime(exptime: number): number {
    if (exptime === 0) return 0;
    if (exptime < 0) return this.clock.started - 1;
    if (exptime > REALTIME_MAXDELTA) {
      return exptime <= this.clock.started ? this.clock.started - 1 : exptime;
    }
    return this.clock.now + exptime;
  }

  // ---- reads --------------------------------------------------------------------------------

  /**
   * Finds a live item without counting, bumping or reclaiming anything: the doors' own look after
   * a write, which memcached does not make.
   */
  peek(key: Uint8Array): number {
    return this.find(key, false);
  }

  /**
   * Finds a live item as a meta command does: counts get_expired/get_flushed when it finds a dead
   * one, but no hit or miss (the door counts those, since mg counts a touch or a get by its flags).
   * No read is noted for eviction; see `bump`.
   */
  lookup(key: Uint8Array): number {
    const sampler = this.sampler;
    if (sampler !== null && --sampler.countdown === 0) sampler.sample(key);
    return this.find(key, true);
  }

  /** Records an access now and notes a read for eviction (mg's delayed bump). */
  bump(handle: number): void {
    this.access(handle, true);
  }

  /**
   * Marks a live item stale (md I): STALE set, WIN_SENT cleared so the next reader can win the
   * recache, and a new CAS. Returns the new CAS.
   */
  invalidate(handle: number): bigint {
    this.s.bits[handle] = (this.s.bits[handle] | STALE) & ~WIN_SENT;
    const lo = this.lastCasLo;
    const hi = this.lastCasHi;
    this.assignCas(handle, 0n);
    this.lastCasLo = lo;
    this.lastCasHi = hi;
    return this.casOf(handle);
  }

  /**
   * Creates an item for a key that has none (mg N, ma N): counts total_items but not cmd_set.
   * Returns its handle, or -1 when memory is full and nothing can be evicted.
   */
  vivify(key: Uint8Array, value: Uint8Array, exptime: number): number {
    return this.put({
      hash: hashKey(key),
      key,
      value,
      flags: 0,
      exptime: this.absoluteExptime(exptime),
      old: -1,
    });
  }

  /** A counted read (get/gets/mg): cmd_get, get_hits/misses/expired/flushed, a noted read. */
  get(key: Uint8Array, bump = true): number {
    const sampler = this.sampler;
    if (sampler !== null && --sampler.countdown === 0) sampler.sample(key);
    const c = this.counters;
    c.cmd_get++;
    const h = this.find(key, true);
    if (h === -1) {
      c.get_misses++;
      return -1;
    }
    c.get_hits++;
    this.access(h, bump);
    return h;
  }

  /** A counted touch (touch/gat/gats/mg T): cmd_touch, touch_hits/misses. */
  touch(key: Uint8Array, exptime: number, countAsGet = false): number {
    const c = this.counters;
    c.cmd_touch++;
    if (countAsGet) c.cmd_get++;
    const h = this.find(key, true);
    if (h === -1) {
      c.touch_misses++;
      return -1;
    }
    c.touch_hits++;
    this.s.exptime[h] = this.absoluteExptime(exptime);
    // memcached's touch fetches the item with an LRU update, which marks it fetched.
    this.s.bits[h] |= FETCHED;
    this.access(h, true);
    return h;
  }

  /** Sets the expiry of a live item in place (mg T after a counted get). */
  setExptime(handle: number, exptime: number): void {
    this.s.exptime[handle] = this.absoluteExptime(exptime);
  }

  /** The value bytes, a view into a segment, valid until the next mutating call. */
  valueOf(handle: number): Uint8Array<ArrayBuffer> {
    return this.log.valueOf(handle);
  }
  flagsOf(handle: number): number {
    return this.s.flags[handle];
  }
  /**
   * The low 32 bits of the CAS, as a number: enough to tell, within one batch, a replaced item from
   * the one a handle named, without making a BigInt.
   */
  casTagOf(handle: number): number {
    return this.s.casLo[handle];
  }
  casOf(handle: number): bigint {
    return joinCas(this.s.casHi[handle], this.s.casLo[handle]);
  }
  /** Absolute unix seconds, 0 = never. */
  exptimeOf(handle: number): number {
    return this.s.exptime[handle];
  }
  /** Unix seconds of the access before the current one. */
  lastAccessOf(handle: number): number {
    return this.s.lastAccess[handle];
  }
  bitsOf(handle: number): number {
    return this.s.bits[handle];
  }
  setBits(handle: number, bits: number): void {
    this.s.bits[handle] = bits;
  }
  /** A copy of the key bytes. */
  keyOf(handle: number): Uint8Array {
    return this.log.keyOf(handle);
  }

  /** Visits live keys, in no particular order; stop by returning false. */
  forEachKey(visit: (key: Uint8Array, handle: number) => boolean): void {
    const now = this.clock.now;
    const s = this.s;
    for (let h = 0; h < s.top; h++) {
      if (s.keyLen[h] !== 0 && !this.log.isDead(h, now) && !visit(this.keyOf(h), h)) return;
    }
  }

  /**
   * Visits the live keys in `count` item slots from `from` and returns where the next slice
   * starts (-1 after the last): lets a listing or a dump yield between slices.
   */
  forEachKeyInSlots(
    from: number,
    count: number,
    visit: (key: Uint8Array, handle: number) => void,
  ): number {
    const now = this.clock.now;
    const s = this.s;
    const to = Math.min(s.top, from + count);
    for (let h = from; h < to; h++) {
      if (s.keyLen[h] !== 0 && !this.log.isDead(h, now)) visit(this.keyOf(h), h);
    }
    return to >= s.top ? -1 : to;
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * Index lookup that hides dead items. With `reclaim` it unlinks them and counts why: a read
   * counts get_expired/get_flushed, as memcached's do_item_get; a `write` (set, add, replace, cas,
   * append, prepend) counts `reclaimed`, as memcached's allocation for it pulls the dead item off
   * the LRU tail (or its LRU maintainer did before the write came).
   */
  protected find(key: Uint8Array, reclaim: boolean, write = false): number {
    const hash = hashKey(key);
    this.foundHash = hash;
    const h = this.log.find(hash, key);
    if (h === -1) return -1;
    const now = this.clock.now;
    const expired = this.log.isExpired(h, now);
    if (!expired && !this.log.isFlushed(h, now)) return h;
    if (!reclaim) return -1;
    if (write) {
      this.reclaimDead(h);
      return -1;
    }
    if (expired) this.counters.get_expired++;
    else this.counters.get_flushed++;
    this.log.remove(h);
    return -1;
  }

  /** Unlinks a dead item, counted reclaimed (and expired_unfetched when it was never read). */
  protected reclaimDead(h: number): void {
    const unfetched = (this.s.bits[h] & FETCHED) === 0;
    this.log.classes.countDead(this.counters, this.log.remove(h), unfetched);
  }

  protected access(h: number, bump: boolean): void {
    this.s.lastAccess[h] = this.clock.now;
    if (bump) this.log.noteRead(h);
  }

  /** Gives slot `h` its CAS: `explicit` when non-zero, else the next counter value. */
  protected assignCas(h: number, explicit: bigint): void {
    let lo = 0;
    let hi = 0;
    if (this.options.casEnabled) {
      if (explicit !== 0n) {
        lo = Number(explicit & 0xffffffffn);
        hi = Number((explicit >> 32n) & 0xffffffffn);
      } else {
        const n = ++this.casCounter;
        lo = n >>> 0;
        hi = Math.floor(n / TWO_32);
      }
    }
    this.s.casLo[h] = lo;
    this.s.casHi[h] = hi;
    this.lastCasLo = lo;
    this.lastCasHi = hi;
  }

  /**
   * Writes an item (replacing the one at `old` if not -1), evicting to make room. Returns its
   * handle, or -1 when there is no room and eviction may not make any.
   */
  protected put(req: PutRequest): number {
    const h = this.log.write(req);
    if (h === -1) return -1;
    const s = this.s;
    const now = this.clock.now;
    this.counters.total_items++;
    s.exptime[h] = req.exptime;
    s.storedAt[h] = now;
    s.lastAccess[h] = now;
    s.bits[h] = 0;
    this.assignCas(h, req.newCas ?? 0n);
    return h;
  }
}
