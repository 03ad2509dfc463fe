import type { Clock } from "../clock.ts";
import { type CounterName, type Counters, CounterTable } from "../stats.ts";
import { joinCas } from "./decimal.ts";
import { type ClassRow, type ClassStats, itemRows, slabRows } from "./classes.ts";
import { StoreLock } from "./lock.ts";
import { ItemLog } from "./log.ts";
import { SharedMemory, type StoreBuffers } from "./memory.ts";
import type { Slots } from "./slots.ts";
import { CAS_BYTES, ITEM_HEADER_BYTES, REALTIME_MAXDELTA, type StoreOptions } from "./types.ts";

// Shared numbers.
export const CAS_COUNTER = 0;
export const SWEEP_CURSOR = 1;

/** Sees one read in many: `sample` is called with the key when `countdown` reaches 0. */
export interface ReadSampler {
  countdown: number;
  sample(key: Uint8Array): void;
}

/** A worker thread's part in a store another thread created. */
export interface StoreShare {
  buffers: StoreBuffers;
  /** 0 for the thread that created the store, 1.. for the others. */
  worker: number;
}

/**
 * The state of the cache, shared by every worker thread: the memory layout, the lock, the
 * counters and limits, and the accessors the doors read a handle with. The commands build on it
 * (cache_core.ts, cache.ts).
 */
export class CacheState {
  /** This thread's counters; `totals()` sums every thread's. */
  readonly counters: Counters;
  readonly options: StoreOptions;
  /** The shared memory, to hand to worker threads (`buffers`). */
  readonly memory: SharedMemory;
  /** Taken by the first store call of a turn; doors release it after each batch (lock.ts). */
  readonly lock: StoreLock;
  /** This thread's number: 0 for the one that created the store. */
  readonly thread: number;
  /** Called each time this thread takes the lock (introspection follows other threads' state). */
  onAcquire: (() => void) | null = null;
  readonly clock: Clock;
  /** Result of the last successful incr/decr. */
  lastNumber = 0n;
  protected lastCasLo = 0;
  protected lastCasHi = 0;
  protected readonly log: ItemLog;
  /** Hash of the key of the last find, so a store that follows need not hash again. */
  protected foundHash = 0;
  /** The CAS counter and the sweep's cursor. */
  protected readonly n: Float64Array;
  protected sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly counterTable: CounterTable;
  private generation = 0;
  /**
   * Counts the reads of get and lookup, for the hot-key sampler. A field the two methods check
   * rather than a wrapper around them: a wrapper on every read cost a closure and a bound call.
   */
  sampler: ReadSampler | null = null;

  constructor(clock: Clock, options: StoreOptions, share?: StoreShare) {
    this.clock = clock;
    this.options = { ...options };
    const memory = new SharedMemory(share?.buffers);
    this.memory = memory;
    this.counterTable = new CounterTable(
      memory.take("counters", CounterTable.MAX_WORKERS * CounterTable.ROW_BYTES),
    );
    this.thread = share?.worker ?? 0;
    this.counters = this.counterTable.row(this.thread);
    this.n = memory.scalars("cache", 2);
    this.log = new ItemLog(clock, this.counters, {
      maxBytes: options.maxBytes,
      itemSizeMax: options.itemSizeMax,
      evict: options.evict,
      itemOverhead: ITEM_HEADER_BYTES + (options.casEnabled ? CAS_BYTES : 0),
    }, memory);
    this.generation = memory.generation;
    this.lock = new StoreLock(memory.control, memory.lockIndex, () => {
      const generation = memory.generation;
      if (generation !== this.generation) {
        this.generation = generation;
        this.log.remap();
      }
      if (this.onAcquire !== null) this.onAcquire();
    });
  }

  /** Takes the store lock for this turn, if this thread does not hold it yet. */
  protected enter(): void {
    if (!this.lock.held) this.lock.acquire();
  }

  /** Gives the lock back: a door calls it after a batch, before it writes the answers. */
  release(): void {
    this.lock.release();
  }

  /** Runs `fn` holding the store lock (work outside a door's batch: timers, fsync results). */
  locked(fn: () => void): void {
    if (this.lock.held) return fn();
    this.lock.acquire();
    try {
      fn();
    } finally {
      this.lock.release();
    }
  }

  /** Every thread's counters summed (a snapshot): what `stats` reports. */
  totals(): Counters {
    return this.counterTable.totals();
  }

  /** One counter summed over every thread. */
  total(name: CounterName): number {
    return this.counterTable.total(name);
  }

  /** `stats reset`, for every thread. */
  resetCounters(): void {
    this.counterTable.reset();
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
  /** The deadline of the latest flush_all with a delay (absolute unix time), 0 = none. */
  get flushDeadline(): number {
    return this.log.flushed.deadline;
  }
  get maxBytes(): number {
    return this.log.maxBytes;
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
    this.enter();
    if (cas > BigInt(this.n[CAS_COUNTER])) this.n[CAS_COUNTER] = Number(cas);
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
    this.enter();
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

  /**
   * The value bytes, a view into the shared arena, valid until the next mutating call and while
   * the lock is held: copy it before anything that awaits (an answer written later).
   */
  valueOf(handle: number): Uint8Array {
    this.enter();
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
    this.enter();
    return this.log.keyOf(handle);
  }
}
