import { CacheCore, CAS_COUNTER, SWEEP_CURSOR } from "./cache_core.ts";
import { concat, encodeAscii, MAX_U64, parseDecimal } from "./decimal.ts";
import {
  type ArithOutcome,
  type DeleteOutcome,
  FETCHED,
  STALE,
  type StoreMode,
  type StoreOutcome,
  WIN_SENT,
} from "./types.ts";

/**
 * The command rules of the one shared cache: what set, add, replace, append, prepend, cas, incr,
 * decr, touch, delete and flush mean, and which counter each moves. Where items live and which
 * are evicted is the memory layout's (log.ts), so the layout can change without touching these.
 *
 * Lookups return a handle (a slot, -1 when there is none) that the accessors read. A handle and
 * the views it returns stay valid until the next mutating call.
 */
/** Slots the flush sweep passes a turn (about 5 ms of work). */
const FLUSH_SWEEP = 100_000;
/**
 * How long flushed items wait before the sweep: a get right after flush_all still meets its item
 * and counts get_flushed, as with memcached, whose LRU maintainer comes round a little later.
 */
const FLUSH_SWEEP_DELAY_MS = 100;

export class Cache extends CacheCore {
  /** Slots the flush sweep still has to pass since the last flush_all. */
  private flushSweepLeft = 0;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

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
    const h = this.find(key, true, true);
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

  /**
   * flush_all. With a delay, items stored before now + delay die when that time comes. Without,
   * as memcached: every item stored before it is flushed where it lies, met later as a miss that
   * counts get_flushed, and reclaimed by the sweeper (quickly, see startSweeper) or by a write
   * that needs room. With CAS the line is exact (every earlier CAS); without CAS (-C) it is the
   * second, so items stored later in the same second are flushed too, as memcached's are.
   */
  flush(delay = 0): void {
    this.enter();
    this.counters.cmd_flush++;
    if (delay > 0) {
      this.log.flushed.deadline = this.absoluteExptime(delay);
      return;
    }
    // With -M no write may evict, and only eviction walks reclaim: the items go at once.
    if (!this.options.evict) {
      this.log.flushed.deadline = 0;
      this.dropAll();
      return;
    }
    this.log.flushed.now(this.clock.now, this.options.casEnabled ? ++this.n[CAS_COUNTER] : 0);
    this.sweepFlushed();
  }

  /** Forgets every item at once, counting nothing (a restore replaying a flush_all). */
  dropAll(): void {
    this.enter();
    this.log.clear();
    this.n[SWEEP_CURSOR] = 0;
    this.flushSweepLeft = 0;
  }

  /** Starts the background sweep that reclaims expired items a few at a time. */
  startSweeper(intervalMs = 1000, perTick = 1000): void {
    if (this.sweepTimer !== undefined) return;
    this.sweepTimer = setInterval(() => this.sweep(perTick), intervalMs);
    Deno.unrefTimer(this.sweepTimer);
  }

  /**
   * After a flush_all, while the sweeper runs (a server, not a unit test): one pass over every
   * slot, FLUSH_SWEEP a turn, from FLUSH_SWEEP_DELAY_MS on, as memcached's LRU maintainer unlinks
   * flushed items soon after. `curr_items` and `bytes` come down within a fraction of a second.
   */
  private sweepFlushed(): void {
    if (this.sweepTimer === undefined) return;
    this.flushSweepLeft = this.s.top;
    if (this.flushTimer !== undefined) return;
    const step = () => {
      const budget = Math.min(this.flushSweepLeft, FLUSH_SWEEP);
      this.flushSweepLeft -= budget;
      this.sweep(budget);
      this.flushTimer = this.flushSweepLeft > 0 ? setTimeout(step, 0) : undefined;
      if (this.flushTimer === undefined) this.log.flushed.swept(this.clock.now);
    };
    this.flushTimer = setTimeout(step, FLUSH_SWEEP_DELAY_MS);
  }

  stopSweeper(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.sweepTimer = this.flushTimer = undefined;
  }

  /**
   * Reclaims dead items among the next `budget` slots, walking on from the last call. Counted as
   * memcached counts them: `reclaimed` for the background sweep, its LRU maintainer's work;
   * `crawler_reclaimed` for `lru_crawler crawl` (`crawler`).
   */
  sweep(budget: number, crawler = false): number {
    this.enter();
    const now = this.clock.now;
    const s = this.s;
    let reclaimed = 0;
    let h = this.n[SWEEP_CURSOR];
    for (let i = Math.min(budget, s.top); i > 0; i--, h++) {
      if (h >= s.top) h = 0;
      if (h === 0) this.counters.lru_crawler_starts++;
      if (s.keyLen[h] === 0) continue;
      this.counters.crawler_items_checked++;
      if (!this.log.isDead(h, now)) continue;
      reclaimed++;
      if (!crawler) {
        this.reclaimDead(h);
        continue;
      }
      // memcached's crawler counts a flushed item reclaimed but never unfetched.
      const unfetched = (s.bits[h] & FETCHED) === 0 && this.log.isExpired(h, now);
      const k = this.log.classes;
      const cls = this.log.remove(h);
      this.counters.crawler_reclaimed++;
      k.crawlerReclaimed[cls]++;
      if (unfetched) {
        this.counters.expired_unfetched++;
        k.expiredUnfetched[cls]++;
      }
    }
    this.n[SWEEP_CURSOR] = h;
    return reclaimed;
  }
}
