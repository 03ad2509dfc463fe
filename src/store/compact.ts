import type { Clock } from "../clock.ts";
import { Counters } from "../stats.ts";
import { hashKey } from "./hash.ts";
import { CHUNK_UNIT, Slabs } from "./slabs.ts";
import {
  type ArithOutcome,
  CAS_BYTES,
  type DeleteOutcome,
  FETCHED,
  FLAGS_BYTES,
  ITEM_HEADER_BYTES,
  REALTIME_MAXDELTA,
  STALE,
  type StoreMode,
  type StoreOptions,
  type StoreOutcome,
  WIN_SENT,
} from "./types.ts";

const MAX_U64 = (1n << 64n) - 1n;
const TWO_32 = 4294967296;
/** Slots reserved up front at most; beyond this the tables grow by doubling. */
const MAX_INITIAL_SLOTS = 1 << 22;
const INITIAL_BUCKETS = 1 << 16;
/** Items per hash bucket on average before the table doubles (memcached uses 1.5 too). */
const LOAD_FACTOR = 1.5;

/**
 * The one shared cache, laid out as memcached lays it out: item bytes (key, then value) in chunks
 * of a preallocated arena (see slabs.ts), everything else in typed arrays indexed by the item's
 * slot, a chained hash table of slots keyed by a hash of the key bytes, and the LRU as prev/next
 * slot links. No JavaScript object or string exists per item.
 *
 * Lookups return a handle (the slot, -1 when there is none) that the accessors read. A handle and
 * the views it returns stay valid until the next mutating call.
 */
export class CompactStore {
  readonly counters = new Counters();
  readonly options: StoreOptions;
  readonly clock: Clock;
  /** Result of the last successful incr/decr. */
  lastNumber = 0n;
  private lastCasLo = 0;
  private lastCasHi = 0;

  private readonly slabs: Slabs;
  // Per slot. A free slot has keyLen 0 and links the free list through `next`.
  private chunk: Uint32Array;
  private keyLen: Uint8Array;
  private valueLen: Uint32Array;
  private flags: Uint32Array;
  private exptime: Uint32Array;
  private storedAt: Uint32Array;
  private lastAccess: Uint32Array;
  private casLo: Uint32Array;
  private casHi: Uint32Array;
  private bits: Uint8Array;
  private prev: Int32Array;
  private next: Int32Array;
  private hashes: Int32Array;
  private chain: Int32Array;
  private slotTop = 0;
  private freeSlot = -1;

  private buckets: Int32Array;
  private mask: number;
  private count = 0;
  /** Hash of the key of the last find, so a store that follows need not hash again. */
  private foundHash = 0;

  private lruHead = -1; // most recently used
  private lruTail = -1; // least recently used
  private casCounter = 0;
  private usedBytes = 0;
  /** flush_all with a delay: items stored before this unix time die once it has come. */
  private flushDeadline = 0;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private sweepCursor = -1;

  constructor(clock: Clock, options: StoreOptions) {
    this.clock = clock;
    this.options = { ...options };
    this.slabs = new Slabs(options.maxBytes, options.itemSizeMax);
    const slots = Math.min(
      MAX_INITIAL_SLOTS,
      Math.max(1024, Math.ceil(options.maxBytes / this.itemSize(1, 0, 0))),
    );
    this.chunk = new Uint32Array(slots);
    this.keyLen = new Uint8Array(slots);
    this.valueLen = new Uint32Array(slots);
    this.flags = new Uint32Array(slots);
    this.exptime = new Uint32Array(slots);
    this.storedAt = new Uint32Array(slots);
    this.lastAccess = new Uint32Array(slots);
    this.casLo = new Uint32Array(slots);
    this.casHi = new Uint32Array(slots);
    this.bits = new Uint8Array(slots);
    this.prev = new Int32Array(slots);
    this.next = new Int32Array(slots);
    this.hashes = new Int32Array(slots);
    this.chain = new Int32Array(slots);
    this.buckets = new Int32Array(INITIAL_BUCKETS).fill(-1);
    this.mask = INITIAL_BUCKETS - 1;
  }

  get bytes(): number {
    return this.usedBytes;
  }
  get currItems(): number {
    return this.count;
  }
  get maxBytes(): number {
    return this.options.maxBytes;
  }
  /** Bytes of arena pages holding chunks (memcached's total_malloced). */
  get mallocedBytes(): number {
    return this.slabs.pagesBytes;
  }
  /** Buckets of the hash table (memcached's 2^hash_power_level). */
  get hashBuckets(): number {
    return this.buckets.length;
  }
  /** Arena pages carved but assigned to no size class (memcached's slab_global_page_pool). */
  get freePages(): number {
    return this.slabs.unassignedPages;
  }

  /** CAS of the item written by the last successful store/arith/touch call. */
  get lastCas(): bigint {
    return joinCas(this.lastCasHi, this.lastCasLo);
  }
  set lastCas(cas: bigint) {
    this.lastCasLo = Number(cas & 0xffffffffn);
    this.lastCasHi = Number((cas >> 32n) & 0xffffffffn);
  }

  /** Makes every CAS the counter hands out from now on greater than `cas` (a restore calls it). */
  raiseCasFloor(cas: bigint): void {
    if (cas > BigInt(this.casCounter)) this.casCounter = Number(cas);
  }

  /** `cache_memlimit`: changes the memory bound; evicts down to it when it shrinks. */
  setMaxBytes(bytes: number): void {
    this.options.maxBytes = bytes;
    this.slabs.setLimit(bytes);
    while (this.usedBytes > bytes && this.lruTail !== -1) this.evictTail();
  }

  /**
   * Bytes an item occupies as memcached's ITEM_ntotal counts them: client flags take 4 bytes
   * in the item only when they are not 0.
   */
  itemSize(keyLength: number, valueLength: number, flags: number): number {
    return ITEM_HEADER_BYTES + keyLength + 1 + valueLength + 2 + (flags !== 0 ? FLAGS_BYTES : 0) +
      (this.options.casEnabled ? CAS_BYTES : 0);
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
   * No LRU bump; see `bump`.
   */
  lookup(key: Uint8Array): number {
    return this.find(key, true);
  }

  /** Records an access now and moves the item to the LRU head (mg's delayed bump). */
  bump(handle: number): void {
    this.access(handle, true);
  }

  /**
   * Marks a live item stale (md I): STALE set, WIN_SENT cleared so the next reader can win the
   * recache, and a new CAS. Returns the new CAS.
   */
  invalidate(handle: number): bigint {
    this.bits[handle] = (this.bits[handle] | STALE) & ~WIN_SENT;
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
    return this.put(hashKey(key), key, value, 0, this.absoluteExptime(exptime), 0n, -1);
  }

  /** A counted read (get/gets/mg): cmd_get, get_hits/misses/expired/flushed, LRU bump. */
  get(key: Uint8Array, bump = true): number {
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
    this.exptime[h] = this.absoluteExptime(exptime);
    // memcached's touch fetches the item with an LRU update, which marks it fetched.
    this.bits[h] |= FETCHED;
    this.access(h, true);
    return h;
  }

  /** Sets the expiry of a live item in place (mg T after a counted get). */
  setExptime(handle: number, exptime: number): void {
    this.exptime[handle] = this.absoluteExptime(exptime);
  }

  /** The value bytes, a view into the arena. */
  valueOf(handle: number): Uint8Array<ArrayBuffer> {
    const start = this.chunk[handle] * CHUNK_UNIT + this.keyLen[handle];
    return this.slabs.bytes.subarray(start, start + this.valueLen[handle]);
  }
  flagsOf(handle: number): number {
    return this.flags[handle];
  }
  /**
   * The low 32 bits of the CAS, as a number: enough to tell, within one batch, a replaced item from
   * the one a handle named, without making a BigInt.
   */
  casTagOf(handle: number): number {
    return this.casLo[handle];
  }
  casOf(handle: number): bigint {
    return joinCas(this.casHi[handle], this.casLo[handle]);
  }
  /** Absolute unix seconds, 0 = never. */
  exptimeOf(handle: number): number {
    return this.exptime[handle];
  }
  /** Unix seconds of the access before the current one. */
  lastAccessOf(handle: number): number {
    return this.lastAccess[handle];
  }
  bitsOf(handle: number): number {
    return this.bits[handle];
  }
  setBits(handle: number, bits: number): void {
    this.bits[handle] = bits;
  }
  /** A copy of the key bytes. */
  keyOf(handle: number): Uint8Array {
    const start = this.chunk[handle] * CHUNK_UNIT;
    return this.slabs.bytes.slice(start, start + this.keyLen[handle]);
  }

  /** Visits live keys in LRU order from the most recent; stop by returning false. */
  forEachKey(visit: (key: Uint8Array, handle: number) => boolean): void {
    const now = this.clock.now;
    for (let h = this.lruHead; h !== -1;) {
      const next = this.next[h];
      if (!this.isDead(h, now) && !visit(this.keyOf(h), h)) return;
      h = next;
    }
  }

  // ---- writes -------------------------------------------------------------------------------

  /**
   * set/add/replace/append/prepend/cas. `compareCas` is the cas unique for mode "cas" (and, when
   * non-zero, a precondition for the other modes); `newCas`, when non-zero, is used as the new item's
   * CAS instead of the next counter value. With `invalidate` (ms I) in mode "cas", a compareCas
   * lower than the item's still stores, as a stale item that keeps the old TTL and win bit.
   * On "stored", `lastCas` holds the new CAS.
   */
  store(
    mode: StoreMode,
    key: Uint8Array,
    value: Uint8Array,
    flags: number,
    exptime: number,
    compareCas = 0n,
    newCas = 0n,
    invalidate = false,
  ): StoreOutcome {
    const c = this.counters;
    c.cmd_set++;
    const h = this.find(key, true);
    const hash = this.foundHash;
    if (mode === "cas") {
      if (h === -1) {
        c.cas_misses++;
        return "not_found";
      }
      // A stale store needs a real (non-zero) CAS older than the item's.
      if (invalidate && compareCas !== 0n && compareCas < this.casOf(h)) {
        c.cas_hits++;
        return this.storeStale(h, key, value, flags);
      }
      // Without CAS (-C) memcached never lets a cas through, not even with 0.
      if (this.casOf(h) !== compareCas || !this.options.casEnabled) {
        c.cas_badval++;
        return "exists";
      }
      c.cas_hits++;
    } else if (compareCas !== 0n && (h === -1 || this.casOf(h) !== compareCas)) {
      return h === -1 ? "not_found" : "exists";
    }
    let data = value;
    let exp = 0;
    switch (mode) {
      case "add":
        if (h !== -1) {
          this.access(h, true);
          return "not_stored";
        }
        break;
      case "replace":
        if (h === -1) return "not_stored";
        break;
      case "append":
      case "prepend": {
        if (h === -1) return "not_stored";
        const old = this.valueOf(h);
        data = mode === "append" ? concat(old, value) : concat(value, old);
        flags = this.flags[h];
        exp = this.exptime[h];
        break;
      }
    }
    if (this.tooLarge(key.length, data.length, flags)) {
      c.store_too_large++;
      return "too_large";
    }
    if (mode !== "append" && mode !== "prepend") exp = this.absoluteExptime(exptime);
    if (this.put(hash, key, data, flags, exp, newCas, h) === -1) {
      c.store_no_memory++;
      return "no_memory";
    }
    return "stored";
  }

  /** Replaces the item at `h` with a stale copy of the new value (see `store`'s invalidate). */
  private storeStale(h: number, key: Uint8Array, value: Uint8Array, flags: number): StoreOutcome {
    if (this.tooLarge(key.length, value.length, flags)) {
      this.counters.store_too_large++;
      return "too_large";
    }
    const bits = STALE | (this.bits[h] & WIN_SENT);
    if (this.put(this.hashes[h], key, value, flags, this.exptime[h], 0n, h) === -1) {
      this.counters.store_no_memory++;
      return "no_memory";
    }
    this.bits[h] = bits;
    return "stored";
  }

  /** delete, with an optional CAS precondition (meta md C). */
  delete(key: Uint8Array, compareCas = 0n): DeleteOutcome {
    const c = this.counters;
    const h = this.find(key, true);
    if (h === -1) {
      c.delete_misses++;
      return "not_found";
    }
    if (compareCas !== 0n && this.casOf(h) !== compareCas) return "exists";
    c.delete_hits++;
    this.unlink(h);
    return "deleted";
  }

  /** Removes an item without counting a delete (a failed set drops the stale value). */
  discard(key: Uint8Array): void {
    const h = this.find(key, true);
    if (h !== -1) this.unlink(h);
  }

  /**
   * incr/decr by an unsigned 64-bit delta: incr wraps, decr stops at 0. A shorter result is padded
   * with spaces to the old length, as memcached writes it in place. With `initial` (binary protocol,
   * meta N), a missing key is created holding `initial` with `exptime`. With `copy`, the result
   * always replaces the item as a new one (exact length, item bits cleared), as memcached does when
   * a response still being sent holds the item (an mg hit earlier in the same batch). On "ok",
   * `lastNumber` and `lastCas` hold the result.
   */
  arith(
    key: Uint8Array,
    incr: boolean,
    delta: bigint,
    compareCas = 0n,
    initial: bigint | null = null,
    exptime = 0,
    copy = false,
  ): ArithOutcome {
    const c = this.counters;
    const h = this.find(key, true);
    const hash = this.foundHash;
    if (h === -1) {
      if (incr) c.incr_misses++;
      else c.decr_misses++;
      if (initial === null) return "not_found";
      const digits = encodeAscii(initial.toString());
      if (this.put(hash, key, digits, 0, this.absoluteExptime(exptime), 0n, -1) === -1) {
        return "no_memory";
      }
      this.lastNumber = initial;
      return "ok";
    }
    // memcached refuses an empty value as non-numeric before it compares the CAS.
    if (this.valueLen[h] === 0) return "non_numeric";
    if (compareCas !== 0n && this.casOf(h) !== compareCas) return "exists";
    const v = this.valueOf(h);
    const current = parseDecimal(v);
    if (current === null) return "non_numeric";
    if (incr) c.incr_hits++;
    else c.decr_hits++;
    const next = incr ? (current + delta) & MAX_U64 : (delta > current ? 0n : current - delta);
    this.lastNumber = next;
    const text = next.toString();
    if (text.length <= v.length && !copy) {
      for (let i = 0; i < v.length; i++) v[i] = i < text.length ? text.charCodeAt(i) : 32;
      this.assignCas(h, 0n);
      this.access(h, true);
      return "ok";
    }
    if (this.put(hash, key, encodeAscii(text), this.flags[h], this.exptime[h], 0n, h) === -1) {
      return "no_memory";
    }
    return "ok";
  }

  /** flush_all: with a delay, items stored before now + delay die when that time comes. */
  flush(delay = 0): void {
    this.counters.cmd_flush++;
    if (delay > 0) {
      this.flushDeadline = this.absoluteExptime(delay);
      return;
    }
    this.flushDeadline = 0;
    this.buckets.fill(-1);
    this.keyLen.fill(0, 0, this.slotTop);
    this.slabs.clear();
    this.slotTop = 0;
    this.freeSlot = -1;
    this.count = 0;
    this.lruHead = this.lruTail = -1;
    this.usedBytes = 0;
    this.sweepCursor = -1;
  }

  /** Starts the background sweep that reclaims expired items a few at a time. */
  startSweeper(intervalMs = 1000, perTick = 1000): void {
    if (this.sweepTimer !== undefined) return;
    this.sweepTimer = setInterval(() => this.sweep(perTick), intervalMs);
    Deno.unrefTimer(this.sweepTimer);
  }

  stopSweeper(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Reclaims up to `budget` expired items, walking the LRU from the tail across calls. */
  sweep(budget: number): number {
    const now = this.clock.now;
    let reclaimed = 0;
    if (this.sweepCursor === -1) this.counters.lru_crawler_starts++;
    let h = this.sweepCursor === -1 ? this.lruTail : this.sweepCursor;
    for (let i = 0; i < budget && h !== -1; i++) {
      if (this.keyLen[h] === 0) {
        h = -1;
        break;
      }
      const prev = this.prev[h];
      this.counters.crawler_items_checked++;
      if (this.isDead(h, now)) {
        if ((this.bits[h] & FETCHED) === 0 && this.isExpired(h, now)) {
          this.counters.expired_unfetched++;
        }
        this.counters.crawler_reclaimed++;
        this.unlink(h);
        reclaimed++;
      }
      h = prev;
    }
    this.sweepCursor = h;
    return reclaimed;
  }

  // ---- internals ----------------------------------------------------------------------------

  private isExpired(h: number, now: number): boolean {
    const e = this.exptime[h];
    return e !== 0 && e <= now;
  }

  private isFlushed(h: number, now: number): boolean {
    return this.flushDeadline !== 0 && now >= this.flushDeadline &&
      this.storedAt[h] < this.flushDeadline;
  }

  private isDead(h: number, now: number): boolean {
    return this.isExpired(h, now) || this.isFlushed(h, now);
  }

  /**
   * Index lookup that hides dead items. With `reclaim` it unlinks them and counts why, as
   * memcached's do_item_get does for every command that looks a key up.
   */
  private find(key: Uint8Array, reclaim: boolean): number {
    const hash = hashKey(key);
    this.foundHash = hash;
    const n = key.length;
    const bytes = this.slabs.bytes;
    let h = this.buckets[hash & this.mask];
    while (h !== -1) {
      if (this.hashes[h] === hash && this.keyLen[h] === n) {
        const start = this.chunk[h] * CHUNK_UNIT;
        let i = 0;
        while (i < n && bytes[start + i] === key[i]) i++;
        if (i === n) break;
      }
      h = this.chain[h];
    }
    if (h === -1) return -1;
    const now = this.clock.now;
    if (this.isExpired(h, now)) {
      if (reclaim) {
        this.counters.get_expired++;
        this.unlink(h);
      }
      return -1;
    }
    if (this.isFlushed(h, now)) {
      if (reclaim) {
        this.counters.get_flushed++;
        this.unlink(h);
      }
      return -1;
    }
    return h;
  }

  private access(h: number, bump: boolean): void {
    this.lastAccess[h] = this.clock.now;
    if (bump && this.lruHead !== h) {
      this.lruRemove(h);
      this.lruPush(h);
    }
  }

  /** Gives slot `h` its CAS: `explicit` when non-zero, else the next counter value. */
  private assignCas(h: number, explicit: bigint): void {
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
    this.casLo[h] = lo;
    this.casHi[h] = hi;
    this.lastCasLo = lo;
    this.lastCasHi = hi;
  }

  /** Makes room while the counted bytes or the arena are short; false when it may not. */
  private evictOne(old: number): boolean {
    if (!this.options.evict || this.lruTail === -1 || this.lruTail === old) return false;
    this.evictTail();
    return true;
  }

  /**
   * Writes an item (replacing the one at `old` if not -1), evicting to make room. Returns its
   * handle, or -1 when there is no room and eviction may not make any.
   */
  private put(
    hash: number,
    key: Uint8Array,
    value: Uint8Array,
    flags: number,
    exptime: number,
    newCas: bigint,
    old: number,
  ): number {
    const keyLength = key.length;
    const valueLength = value.length;
    const size = this.itemSize(keyLength, valueLength, flags);
    const reused = old === -1 ? 0 : this.itemSize(keyLength, this.valueLen[old], this.flags[old]);
    while (this.usedBytes - reused + size > this.options.maxBytes) {
      if (!this.evictOne(old)) return -1;
    }
    const slabs = this.slabs;
    const cls = slabs.classFor(keyLength + valueLength);
    let chunk: number;
    if (old !== -1 && slabs.classFor(keyLength + this.valueLen[old]) === cls) {
      chunk = this.chunk[old];
      slabs.bytes.set(value, chunk * CHUNK_UNIT + keyLength);
    } else {
      while ((chunk = slabs.alloc(cls)) === -1) {
        if (!this.evictOne(old)) return -1;
      }
      const bytes = slabs.bytes;
      const start = chunk * CHUNK_UNIT;
      bytes.set(key, start);
      bytes.set(value, start + keyLength);
      if (old !== -1) slabs.free(this.chunk[old]);
    }
    const now = this.clock.now;
    this.counters.total_items++;
    let h = old;
    if (h === -1) {
      h = this.newSlot();
      this.keyLen[h] = keyLength;
      this.hashes[h] = hash;
      const b = hash & this.mask;
      this.chain[h] = this.buckets[b];
      this.buckets[b] = h;
      this.count++;
      this.usedBytes += size;
      this.lruPush(h);
      if (this.count > this.buckets.length * LOAD_FACTOR) this.rehash();
    } else {
      this.usedBytes += size - reused;
      if (this.lruHead !== h) {
        this.lruRemove(h);
        this.lruPush(h);
      }
    }
    this.chunk[h] = chunk;
    this.valueLen[h] = valueLength;
    this.flags[h] = flags;
    this.exptime[h] = exptime;
    this.storedAt[h] = now;
    this.lastAccess[h] = now;
    this.bits[h] = 0;
    this.assignCas(h, newCas);
    return h;
  }

  private evictTail(): void {
    const h = this.lruTail;
    const now = this.clock.now;
    this.counters.direct_reclaims++;
    if (this.isDead(h, now)) {
      this.counters.reclaimed++;
      if ((this.bits[h] & FETCHED) === 0) this.counters.expired_unfetched++;
    } else {
      this.counters.evictions++;
      if ((this.bits[h] & FETCHED) === 0) this.counters.evicted_unfetched++;
      else if (this.lastAccess[h] >= now - 60) this.counters.evicted_active++;
    }
    this.unlink(h);
  }

  private unlink(h: number): void {
    if (this.sweepCursor === h) this.sweepCursor = this.prev[h];
    this.lruRemove(h);
    const b = this.hashes[h] & this.mask;
    let p = this.buckets[b];
    if (p === h) {
      this.buckets[b] = this.chain[h];
    } else {
      while (this.chain[p] !== h) p = this.chain[p];
      this.chain[p] = this.chain[h];
    }
    this.count--;
    this.usedBytes -= this.itemSize(this.keyLen[h], this.valueLen[h], this.flags[h]);
    this.slabs.free(this.chunk[h]);
    this.keyLen[h] = 0;
    this.next[h] = this.freeSlot;
    this.freeSlot = h;
  }

  private newSlot(): number {
    const free = this.freeSlot;
    if (free !== -1) {
      this.freeSlot = this.next[free];
      return free;
    }
    if (this.slotTop === this.chunk.length) this.growSlots(this.chunk.length * 2);
    return this.slotTop++;
  }

  private growSlots(capacity: number): void {
    const n = this.slotTop;
    const grow = <T extends Uint8Array | Uint32Array | Int32Array>(
      a: T,
      make: (n: number) => T,
    ) => {
      const b = make(capacity);
      b.set(a.subarray(0, n) as never);
      return b;
    };
    this.chunk = grow(this.chunk, (c) => new Uint32Array(c));
    this.keyLen = grow(this.keyLen, (c) => new Uint8Array(c));
    this.valueLen = grow(this.valueLen, (c) => new Uint32Array(c));
    this.flags = grow(this.flags, (c) => new Uint32Array(c));
    this.exptime = grow(this.exptime, (c) => new Uint32Array(c));
    this.storedAt = grow(this.storedAt, (c) => new Uint32Array(c));
    this.lastAccess = grow(this.lastAccess, (c) => new Uint32Array(c));
    this.casLo = grow(this.casLo, (c) => new Uint32Array(c));
    this.casHi = grow(this.casHi, (c) => new Uint32Array(c));
    this.bits = grow(this.bits, (c) => new Uint8Array(c));
    this.prev = grow(this.prev, (c) => new Int32Array(c));
    this.next = grow(this.next, (c) => new Int32Array(c));
    this.hashes = grow(this.hashes, (c) => new Int32Array(c));
    this.chain = grow(this.chain, (c) => new Int32Array(c));
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

  private lruPush(h: number): void {
    this.prev[h] = -1;
    this.next[h] = this.lruHead;
    if (this.lruHead !== -1) this.prev[this.lruHead] = h;
    this.lruHead = h;
    if (this.lruTail === -1) this.lruTail = h;
  }

  private lruRemove(h: number): void {
    if (this.sweepCursor === h) this.sweepCursor = this.prev[h];
    const prev = this.prev[h];
    const next = this.next[h];
    if (prev !== -1) this.next[prev] = next;
    else this.lruHead = next;
    if (next !== -1) this.prev[next] = prev;
    else this.lruTail = prev;
    this.prev[h] = this.next[h] = -1;
  }
}

function joinCas(hi: number, lo: number): bigint {
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function encodeAscii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Parses a stored value as memcached's incr does (strtoull on the data, which ends in CRLF):
 * leading whitespace and a sign are allowed, the digits may be followed by whitespace and anything
 * after it ("1 2" is 1), an overflow is refused, and a minus sign only matters when the negated
 * number would read as negative in 64 signed bits ("-0" is 0, "-5" is refused).
 */
export function parseDecimal(value: Uint8Array): bigint | null {
  const n = value.length;
  let i = 0;
  while (i < n && isSpace(value[i])) i++;
  let negative = false;
  if (i < n && (value[i] === 43 || value[i] === 45)) {
    negative = value[i] === 45;
    i++;
  }
  const start = i;
  let small = 0;
  while (i < n && value[i] >= 48 && value[i] <= 57) {
    small = small * 10 + value[i] - 48;
    i++;
  }
  if (i === start || (i < n && !isSpace(value[i]))) return null;
  let v = i - start < 16
    ? BigInt(small)
    : BigInt(String.fromCharCode.apply(null, value.subarray(start, i) as unknown as number[]));
  if (v > MAX_U64) return null;
  if (negative) {
    v = (MAX_U64 + 1n - v) & MAX_U64;
    if (v >= 1n << 63n) return null;
  }
  return v;
}

function isSpace(b: number): boolean {
  return b === 32 || (b >= 9 && b <= 13);
}
