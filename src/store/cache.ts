import type { Clock } from "../clock.ts";
import { Counters } from "../stats.ts";
import { concat, encodeAscii, joinCas, MAX_U64, parseDecimal } from "./decimal.ts";
import { hashKey } from "./hash.ts";
import type { ClassStats } from "./classes.ts";
import { ItemLog } from "./log.ts";
import type { Slots } from "./slots.ts";
import {
  type ArithOutcome,
  CAS_BYTES,
  type DeleteOutcome,
  FETCHED,
  ITEM_HEADER_BYTES,
  REALTIME_MAXDELTA,
  STALE,
  type StoreMode,
  type StoreOptions,
  type StoreOutcome,
  WIN_SENT,
} from "./types.ts";

export { parseDecimal };

const TWO_32 = 4294967296;

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
 * The command rules of the one shared cache: what set, add, replace, append, prepend, cas, incr,
 * decr, touch, delete and flush mean, and which counter each moves. Where items live and which
 * are evicted is the memory layout's (log.ts), so the layout can change without touching these.
 *
 * Lookups return a handle (a slot, -1 when there is none) that the accessors read. A handle and
 * the views it returns stay valid until the next mutating call.
 */
export class Cache {
  readonly counters = new Counters();
  readonly options: StoreOptions;
  readonly clock: Clock;
  /** Result of the last successful incr/decr. */
  lastNumber = 0n;
  private lastCasLo = 0;
  private lastCasHi = 0;
  private readonly log: ItemLog;
  /** Hash of the key of the last find, so a store that follows need not hash again. */
  private foundHash = 0;
  private casCounter = 0;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private sweepCursor = 0;

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

  private get s(): Slots {
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

  /** The value bytes, a view into the arena. */
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
        flags = this.s.flags[h];
        exp = this.s.exptime[h];
        break;
      }
    }
    if (this.tooLarge(key.length, data.length, flags)) {
      c.store_too_large++;
      return "too_large";
    }
    if (mode !== "append" && mode !== "prepend") exp = this.absoluteExptime(exptime);
    if (this.put({ hash, key, value: data, flags, exptime: exp, newCas, old: h }) === -1) {
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
    const bits = STALE | (this.s.bits[h] & WIN_SENT);
    if (
      this.put({
        hash: this.s.hashes[h],
        key,
        value,
        flags,
        exptime: this.s.exptime[h],
        old: h,
      }) === -1
    ) {
      this.counters.store_no_memory++;
      return "no_memory";
    }
    this.s.bits[h] = bits;
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
    this.log.remove(h);
    return "deleted";
  }

  /** Removes an item without counting a delete (a failed set drops the stale value). */
  discard(key: Uint8Array): void {
    const h = this.find(key, true);
    if (h !== -1) this.log.remove(h);
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
      if (
        this.put({
          hash,
          key,
          value: digits,
          flags: 0,
          exptime: this.absoluteExptime(exptime),
          old: -1,
        }) === -1
      ) {
        return "no_memory";
      }
      this.lastNumber = initial;
      return "ok";
    }
    // memcached refuses an empty value as non-numeric before it compares the CAS.
    if (this.s.valueLen[h] === 0) return "non_numeric";
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
    if (
      this.put({
        hash,
        key,
        value: encodeAscii(text),
        flags: this.s.flags[h],
        exptime: this.s.exptime[h],
        old: h,
      }) === -1
    ) {
      return "no_memory";
    }
    return "ok";
  }

  /** flush_all: with a delay, items stored before now + delay die when that time comes. */
  flush(delay = 0): void {
    this.counters.cmd_flush++;
    if (delay > 0) {
      this.log.flushDeadline = this.absoluteExptime(delay);
      return;
    }
    this.log.flushDeadline = 0;
    this.log.clear();
    this.sweepCursor = 0;
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

  /** Reclaims expired items among the next `budget` slots, walking on from the last call. */
  sweep(budget: number): number {
    const now = this.clock.now;
    const s = this.s;
    let reclaimed = 0;
    let h = this.sweepCursor;
    for (let i = Math.min(budget, s.top); i > 0; i--, h++) {
      if (h >= s.top) h = 0;
      if (h === 0) this.counters.lru_crawler_starts++;
      if (s.keyLen[h] === 0) continue;
      this.counters.crawler_items_checked++;
      if (this.log.isDead(h, now)) {
        if ((s.bits[h] & FETCHED) === 0 && this.log.isExpired(h, now)) {
          this.counters.expired_unfetched++;
        }
        this.counters.crawler_reclaimed++;
        this.log.classes.crawlerReclaimed[this.log.remove(h)]++;
        reclaimed++;
      }
    }
    this.sweepCursor = h;
    return reclaimed;
  }

  // ---- internals ----------------------------------------------------------------------------

  /**
   * Index lookup that hides dead items. With `reclaim` it unlinks them and counts why, as
   * memcached's do_item_get does for every command that looks a key up.
   */
  private find(key: Uint8Array, reclaim: boolean): number {
    const hash = hashKey(key);
    this.foundHash = hash;
    const h = this.log.find(hash, key);
    if (h === -1) return -1;
    const now = this.clock.now;
    if (this.log.isExpired(h, now)) {
      if (reclaim) {
        this.counters.get_expired++;
        this.log.remove(h);
      }
      return -1;
    }
    if (this.log.isFlushed(h, now)) {
      if (reclaim) {
        this.counters.get_flushed++;
        this.log.remove(h);
      }
      return -1;
    }
    return h;
  }

  private access(h: number, bump: boolean): void {
    this.s.lastAccess[h] = this.clock.now;
    if (bump) this.log.noteRead(h);
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
    this.s.casLo[h] = lo;
    this.s.casHi[h] = hi;
    this.lastCasLo = lo;
    this.lastCasHi = hi;
  }

  /**
   * Writes an item (replacing the one at `old` if not -1), evicting to make room. Returns its
   * handle, or -1 when there is no room and eviction may not make any.
   */
  private put(req: PutRequest): number {
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
