/**
 * The first, simple store (a JavaScript object per item, a Map for the index), kept as the oracle
 * the compact store is compared against in tests/store_compact.test.ts.
 */
import type { Clock } from "../../src/clock.ts";
import { newCounters } from "../../src/stats.ts";
// The incr parsing rule is memcached's, not a storage detail: the oracle shares it.
import { parseDecimal } from "../../src/store/decimal.ts";
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
} from "../../src/store/types.ts";

/** One cached item. Internal: doors see handles and accessors, never this class. */
class Item {
  prev = -1;
  next = -1;
  constructor(
    public key: string,
    public keyLength: number,
    public value: Uint8Array,
    public flags: number,
    /** Absolute unix seconds; 0 = never. */
    public exptime: number,
    public cas: bigint,
    /** Unix seconds of the last store, for delayed flush_all. */
    public storedAt: number,
    public lastAccess: number,
    public bits: number,
    public size: number,
  ) {}
}

const MAX_U64 = (1n << 64n) - 1n;

/**
 * The one shared cache. Every door calls this API; item lookups return a handle (an integer, -1
 * when there is none) that the accessors read. A handle and the views it returns stay valid until
 * the next mutating call.
 */
export class ReferenceStore {
  readonly counters = newCounters();
  readonly options: StoreOptions;
  readonly clock: Clock;
  /** CAS of the item written by the last successful store/arith/touch call. */
  lastCas = 0n;
  /** Result of the last successful incr/decr. */
  lastNumber = 0n;

  private readonly index = new Map<string, number>();
  private readonly slots: (Item | null)[] = [];
  private readonly freeSlots: number[] = [];
  private lruHead = -1; // most recently used
  private lruTail = -1; // least recently used
  private casCounter = 0n;
  private usedBytes = 0;
  /** flush_all with a delay: items stored before this unix time die once it has come. */
  private flushDeadline = 0;
  /** flush_all now (memcached's oldest_live and oldest_cas): items up to this second, or below this CAS. */
  private flushedUpTo = 0;
  private flushCas = 0n;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private sweepCursor = -1;

  constructor(clock: Clock, options: StoreOptions) {
    this.clock = clock;
    this.options = { ...options };
  }

  get bytes(): number {
    return this.usedBytes;
  }
  get currItems(): number {
    return this.index.size;
  }
  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** `cache_memlimit`: changes the memory bound; evicts down to it when it shrinks. */
  setMaxBytes(bytes: number): void {
    this.options.maxBytes = bytes;
    while (this.usedBytes > bytes && this.lruTail !== -1) this.evictTail();
  }

  /** Bytes an item occupies as memcached's ITEM_ntotal counts them (non-zero flags: 4 more). */
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
    return this.find(keyString(key), false);
  }

  /**
   * Finds a live item as a meta command does: counts get_expired/get_flushed when it finds a dead
   * one, but no hit or miss (the door counts those, since mg counts a touch or a get by its flags).
   * No LRU bump; see `bump`.
   */
  lookup(key: Uint8Array): number {
    return this.find(keyString(key), true);
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
    const item = this.slots[handle]!;
    item.bits = (item.bits | STALE) & ~WIN_SENT;
    item.cas = this.nextCas(0n);
    return item.cas;
  }

  /**
   * Creates an item for a key that has none (mg N, ma N): counts total_items but not cmd_set.
   * Returns its handle, or -1 when memory is full and nothing can be evicted.
   */
  vivify(key: Uint8Array, value: Uint8Array, exptime: number): number {
    const k = keyString(key);
    if (!this.put(k, key.length, value.slice(), 0, this.absoluteExptime(exptime), 0n, -1)) {
      return -1;
    }
    return this.index.get(k)!;
  }

  /** A counted read (get/gets/mg): cmd_get, get_hits/misses/expired/flushed, LRU bump. */
  get(key: Uint8Array, bump = true): number {
    const c = this.counters;
    c.cmd_get++;
    const h = this.find(keyString(key), true);
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
    const h = this.find(keyString(key), true);
    if (h === -1) {
      c.touch_misses++;
      return -1;
    }
    c.touch_hits++;
    const item = this.slots[h]!;
    item.exptime = this.absoluteExptime(exptime);
    // memcached's touch fetches the item with an LRU update, which marks it fetched.
    item.bits |= FETCHED;
    this.access(h, true);
    return h;
  }

  /** Sets the expiry of a live item in place (mg T after a counted get). */
  setExptime(handle: number, exptime: number): void {
    this.slots[handle]!.exptime = this.absoluteExptime(exptime);
  }

  valueOf(handle: number): Uint8Array {
    return this.slots[handle]!.value;
  }
  flagsOf(handle: number): number {
    return this.slots[handle]!.flags;
  }
  casOf(handle: number): bigint {
    return this.slots[handle]!.cas;
  }
  /** Absolute unix seconds, 0 = never. */
  exptimeOf(handle: number): number {
    return this.slots[handle]!.exptime;
  }
  /** Unix seconds of the access before the current one. */
  lastAccessOf(handle: number): number {
    return this.slots[handle]!.lastAccess;
  }
  bitsOf(handle: number): number {
    return this.slots[handle]!.bits;
  }
  setBits(handle: number, bits: number): void {
    this.slots[handle]!.bits = bits;
  }
  keyOf(handle: number): Uint8Array {
    return keyBytes(this.slots[handle]!.key);
  }

  /** Visits live keys in LRU order from the most recent; stop by returning false. */
  forEachKey(visit: (key: Uint8Array, handle: number) => boolean): void {
    const now = this.clock.now;
    for (let h = this.lruHead; h !== -1;) {
      const item = this.slots[h]!;
      const next = item.next;
      if (!this.isDead(item, now) && !visit(keyBytes(item.key), h)) return;
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
    const k = keyString(key);
    const h = this.find(k, true, true);
    const old = h === -1 ? null : this.slots[h]!;
    if (mode === "cas") {
      if (old === null) {
        c.cas_misses++;
        return "not_found";
      }
      // A stale store needs a real (non-zero) CAS older than the item's.
      if (invalidate && compareCas !== 0n && compareCas < old.cas) {
        c.cas_hits++;
        return this.storeStale(h, key, value, flags);
      }
      // Without CAS (-C) memcached never lets a cas through, not even with 0.
      if (old.cas !== compareCas || !this.options.casEnabled) {
        c.cas_badval++;
        return "exists";
      }
      c.cas_hits++;
    } else if (compareCas !== 0n && (old === null || old.cas !== compareCas)) {
      return old === null ? "not_found" : "exists";
    }
    let data = value;
    switch (mode) {
      case "add":
        if (old !== null) {
          this.access(h, true);
          return "not_stored";
        }
        break;
      case "replace":
        if (old === null) return "not_stored";
        break;
      case "append":
      case "prepend":
        if (old === null) return "not_stored";
        data = mode === "append" ? concat(old.value, value) : concat(value, old.value);
        flags = old.flags;
        break;
    }
    if (this.tooLarge(key.length, data.length, flags)) {
      c.store_too_large++;
      return "too_large";
    }
    const keep = mode === "append" || mode === "prepend";
    const exp = keep ? old!.exptime : this.absoluteExptime(exptime);
    const stored = this.put(k, key.length, keep ? data : data.slice(), flags, exp, newCas, h);
    if (!stored) {
      c.store_no_memory++;
      return "no_memory";
    }
    return "stored";
  }

  /** Replaces the item at `h` with a stale copy of the new value (see `store`'s invalidate). */
  private storeStale(h: number, key: Uint8Array, value: Uint8Array, flags: number): StoreOutcome {
    const old = this.slots[h]!;
    if (this.tooLarge(key.length, value.length, flags)) {
      this.counters.store_too_large++;
      return "too_large";
    }
    const bits = STALE | (old.bits & WIN_SENT);
    if (!this.put(old.key, key.length, value.slice(), flags, old.exptime, 0n, h)) {
      this.counters.store_no_memory++;
      return "no_memory";
    }
    this.slots[h]!.bits = bits;
    return "stored";
  }

  /** delete, with an optional CAS precondition (meta md C). */
  delete(key: Uint8Array, compareCas = 0n): DeleteOutcome {
    const c = this.counters;
    const h = this.find(keyString(key), true);
    if (h === -1) {
      c.delete_misses++;
      return "not_found";
    }
    if (compareCas !== 0n && this.slots[h]!.cas !== compareCas) return "exists";
    c.delete_hits++;
    this.unlink(h);
    return "deleted";
  }

  /** Removes an item without counting a delete (a failed set drops the stale value). */
  discard(key: Uint8Array): void {
    const h = this.find(keyString(key), true);
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
    const k = keyString(key);
    const h = this.find(k, true);
    if (h === -1) {
      if (incr) c.incr_misses++;
      else c.decr_misses++;
      if (initial === null) return "not_found";
      const digits = encodeAscii(initial.toString());
      if (!this.put(k, key.length, digits, 0, this.absoluteExptime(exptime), 0n, -1)) {
        return "no_memory";
      }
      this.lastNumber = initial;
      return "ok";
    }
    const item = this.slots[h]!;
    if (item.value.length === 0) return "non_numeric";
    if (compareCas !== 0n && item.cas !== compareCas) return "exists";
    const current = parseDecimal(item.value);
    if (current === null) return "non_numeric";
    if (incr) c.incr_hits++;
    else c.decr_hits++;
    const next = incr ? (current + delta) & MAX_U64 : (delta > current ? 0n : current - delta);
    this.lastNumber = next;
    const text = next.toString();
    if (text.length <= item.value.length && !copy) {
      const v = item.value;
      for (let i = 0; i < v.length; i++) v[i] = i < text.length ? text.charCodeAt(i) : 32;
      item.cas = this.nextCas(0n);
      this.lastCas = item.cas;
      this.access(h, true);
      return "ok";
    }
    if (!this.put(k, key.length, encodeAscii(text), item.flags, item.exptime, 0n, h)) {
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
    if (this.options.evict) {
      // Flushed where they lie, met (get_flushed) or reclaimed later, as memcached does.
      const now = this.clock.now;
      if (this.options.casEnabled) {
        this.flushedUpTo = now - 1;
        this.flushCas = ++this.casCounter;
      } else {
        this.flushedUpTo = now;
      }
      return;
    }
    this.index.clear();
    this.slots.length = 0;
    this.freeSlots.length = 0;
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

  /**
   * Reclaims up to `budget` dead items, walking the LRU from the tail across calls: counted
   * reclaimed (memcached's LRU maintainer), or crawler_reclaimed for `lru_crawler crawl`.
   */
  sweep(budget: number, crawler = false): number {
    const now = this.clock.now;
    let reclaimed = 0;
    if (this.sweepCursor === -1) this.counters.lru_crawler_starts++;
    let h = this.sweepCursor === -1 ? this.lruTail : this.sweepCursor;
    for (let i = 0; i < budget && h !== -1; i++) {
      const item = this.slots[h];
      if (item === null || item === undefined) {
        h = -1;
        break;
      }
      const prev = item.prev;
      this.counters.crawler_items_checked++;
      if (this.isDead(item, now)) {
        if (!crawler) this.countDead(item);
        else {
          if ((item.bits & FETCHED) === 0 && this.isExpired(item, now)) {
            this.counters.expired_unfetched++;
          }
          this.counters.crawler_reclaimed++;
        }
        this.unlink(h);
        reclaimed++;
      }
      h = prev;
    }
    this.sweepCursor = h;
    return reclaimed;
  }

  // ---- internals ----------------------------------------------------------------------------

  private isExpired(item: Item, now: number): boolean {
    return item.exptime !== 0 && item.exptime <= now;
  }

  private isFlushed(item: Item, now: number): boolean {
    if (this.flushedUpTo !== 0 && (item.storedAt <= this.flushedUpTo || item.cas < this.flushCas)) {
      return true;
    }
    return this.flushDeadline !== 0 && now >= this.flushDeadline &&
      item.storedAt < this.flushDeadline;
  }

  private isDead(item: Item, now: number): boolean {
    return this.isExpired(item, now) || this.isFlushed(item, now);
  }

  /**
   * Index lookup that hides dead items. With `reclaim` it unlinks them and counts why: a read
   * counts get_expired/get_flushed, as memcached's do_item_get; a `write` counts reclaimed, as
   * memcached's allocation pulls the dead item off the LRU tail.
   */
  private find(key: string, reclaim: boolean, write = false): number {
    const h = this.index.get(key);
    if (h === undefined) return -1;
    const item = this.slots[h]!;
    const now = this.clock.now;
    const expired = this.isExpired(item, now);
    if (!expired && !this.isFlushed(item, now)) return h;
    if (!reclaim) return -1;
    if (write) this.countDead(item);
    else if (expired) this.counters.get_expired++;
    else this.counters.get_flushed++;
    this.unlink(h);
    return -1;
  }

  /** A dead item unlinked before a read met it (a write to its key, the sweep, the LRU tail). */
  private countDead(item: Item): void {
    this.counters.reclaimed++;
    if ((item.bits & FETCHED) === 0) this.counters.expired_unfetched++;
  }

  private access(h: number, bump: boolean): void {
    const item = this.slots[h]!;
    item.lastAccess = this.clock.now;
    if (bump && this.lruHead !== h) {
      this.lruRemove(h, item);
      this.lruPush(h, item);
    }
  }

  private nextCas(explicit: bigint): bigint {
    if (!this.options.casEnabled) return 0n;
    if (explicit !== 0n) return explicit;
    return ++this.casCounter;
  }

  /** Writes an item (replacing the one at `old` if not -1), evicting to make room. */
  private put(
    key: string,
    keyLength: number,
    value: Uint8Array,
    flags: number,
    exptime: number,
    newCas: bigint,
    old: number,
  ): boolean {
    const size = this.itemSize(keyLength, value.length, flags);
    const reused = old === -1 ? 0 : this.slots[old]!.size;
    while (this.usedBytes - reused + size > this.options.maxBytes) {
      if (!this.options.evict || this.lruTail === -1 || this.lruTail === old) return false;
      this.evictTail();
    }
    const now = this.clock.now;
    const cas = this.nextCas(newCas);
    this.lastCas = cas;
    this.counters.total_items++;
    if (old !== -1) {
      const item = this.slots[old]!;
      this.usedBytes += size - item.size;
      item.value = value;
      item.flags = flags;
      item.exptime = exptime;
      item.cas = cas;
      item.storedAt = now;
      item.lastAccess = now;
      item.bits = 0;
      item.size = size;
      if (this.lruHead !== old) {
        this.lruRemove(old, item);
        this.lruPush(old, item);
      }
      return true;
    }
    const item = new Item(key, keyLength, value, flags, exptime, cas, now, now, 0, size);
    const h = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.slots.length;
    this.slots[h] = item;
    this.index.set(key, h);
    this.lruPush(h, item);
    this.usedBytes += size;
    return true;
  }

  private evictTail(): void {
    const h = this.lruTail;
    const item = this.slots[h]!;
    const now = this.clock.now;
    this.counters.direct_reclaims++;
    if (this.isDead(item, now)) {
      this.countDead(item);
    } else {
      this.counters.evictions++;
      if ((item.bits & FETCHED) === 0) this.counters.evicted_unfetched++;
      else if (item.lastAccess >= now - 60) this.counters.evicted_active++;
    }
    this.unlink(h);
  }

  private unlink(h: number): void {
    const item = this.slots[h]!;
    if (this.sweepCursor === h) this.sweepCursor = item.prev;
    this.lruRemove(h, item);
    this.index.delete(item.key);
    this.usedBytes -= item.size;
    this.slots[h] = null;
    this.freeSlots.push(h);
  }

  private lruPush(h: number, item: Item): void {
    item.prev = -1;
    item.next = this.lruHead;
    if (this.lruHead !== -1) this.slots[this.lruHead]!.prev = h;
    this.lruHead = h;
    if (this.lruTail === -1) this.lruTail = h;
  }

  private lruRemove(h: number, item: Item): void {
    if (this.sweepCursor === h) this.sweepCursor = item.prev;
    if (item.prev !== -1) this.slots[item.prev]!.next = item.next;
    else this.lruHead = item.next;
    if (item.next !== -1) this.slots[item.next]!.prev = item.prev;
    else this.lruTail = item.prev;
    item.prev = item.next = -1;
  }
}

function keyString(key: Uint8Array): string {
  return String.fromCharCode.apply(null, key as unknown as number[]);
}

function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
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
