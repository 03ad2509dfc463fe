import { hashKey } from "./hash.ts";
import { CacheState, CAS_COUNTER } from "./cache_state.ts";
import { FETCHED, STALE, WIN_SENT } from "./types.ts";

export { CAS_COUNTER, type ReadSampler, type StoreShare, SWEEP_CURSOR } from "./cache_state.ts";

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
 * The commands that only read the cache: lookups, counted gets and touches. The write commands
 * build on it in cache.ts.
 */
export class CacheCore extends CacheState {
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
    this.enter();
    this.access(handle, true);
  }

  /**
   * Marks a live item stale (md I): STALE set, WIN_SENT cleared so the next reader can win the
   * recache, and a new CAS. Returns the new CAS.
   */
  invalidate(handle: number): bigint {
    this.enter();
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
    this.enter();
    this.s.exptime[handle] = this.absoluteExptime(exptime);
  }

  /** Visits live keys, in no particular order; stop by returning false. */
  forEachKey(visit: (key: Uint8Array, handle: number) => boolean): void {
    this.enter();
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
    this.enter();
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
    this.enter();
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
        const n = ++this.n[CAS_COUNTER];
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
    this.enter();
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
