/**
 * The memory layout behind the command rules: the index and item metadata (slots.ts), the item
 * bytes in a log of segments (segments.ts), and eviction by the policy log_policy.ts describes.
 */
import type { Clock } from "../clock.ts";
import type { Counters } from "../stats.ts";
import { ClassStats } from "./classes.ts";
import { FlushLine } from "./flush_line.ts";
import { Ghost } from "./ghost.ts";
import type { SharedMemory } from "./memory.ts";
import { RECORD_HEADER, Segments } from "./segments.ts";
import { Slots } from "./slots.ts";
import { FETCHED, type LayoutOptions, type WriteRequest } from "./types.ts";
import {
  BIG_SHARE,
  CREDIT_MAX,
  GHOST_ADMIT_BYTES,
  ghostEntries,
  initialSlots,
  MAIN,
  RENT_SHIFT,
  RESERVE,
  segmentBudget,
  SMALL,
  SMALL_RENT_MAX,
  SMALL_SHARE,
} from "./log_policy.ts";

// Shared numbers: limit, bytes used, small queue's bytes, then the queue ends and heads below.
const MAX_BYTES = 0;
const USED_BYTES = 1;
const SMALL_BYTES = 2;

export class ItemLog {
  readonly slots: Slots;
  readonly segments: Segments;
  readonly classes: ClassStats;
  /** What flush_all has made dead. */
  readonly flushed: FlushLine;

  private readonly evict: boolean;
  private readonly overhead: number;
  private readonly n: Float64Array;
  /** Per queue: oldest segment, newest segment, and the walk's offset in the oldest. */
  private readonly oldest: Float64Array;
  private readonly newest: Float64Array;
  private readonly walkAt: Float64Array;
  /** Open segments by queue * 2 + big. */
  private readonly heads: Float64Array;
  private readonly ghost: Ghost;
  /** Told of each live item about to be evicted (its slot still readable): `watch evictions`. */
  onEvict: ((slot: number) => void) | null = null;
  /** The slot the current write replaces: moved by walks, never evicted. */
  private protectedSlot = -1;

  constructor(
    private readonly clock: Clock,
    private readonly counters: Counters,
    options: LayoutOptions,
    memory: SharedMemory,
  ) {
    this.evict = options.evict;
    this.overhead = options.itemOverhead;
    const n = this.n = memory.scalars("log", 3 + 2 + 2 + 2 + 4);
    [this.oldest, this.newest, this.walkAt, this.heads] = [3, 5, 7, 9].map((at) =>
      n.subarray(at, at === 9 ? 13 : at + 2)
    );
    const segments = new Segments(memory, 0, options.itemSizeMax);
    this.segments = segments;
    if (memory.creator) {
      this.n[MAX_BYTES] = options.maxBytes;
      this.oldest.fill(-1);
      this.newest.fill(-1);
      this.heads.fill(-1);
      segments.setBudget(segmentBudget(options.maxBytes, segments.size));
    }
    this.slots = new Slots(memory, initialSlots(options.maxBytes));
    this.ghost = new Ghost(memory, ghostEntries(options.maxBytes));
    this.classes = new ClassStats(memory);
    this.flushed = new FlushLine(memory);
  }

  /** Rebuilds every view of a buffer another thread grew. */
  remap(): void {
    this.slots.remap();
    this.segments.remap();
    this.ghost.remap();
  }

  get maxBytes(): number {
    return this.n[MAX_BYTES];
  }
  /** Bytes items occupy, counted as memcached's ITEM_ntotal. */
  get usedBytes(): number {
    return this.n[USED_BYTES];
  }

  /** ITEM_ntotal of an item. */
  itemSize(keyLength: number, valueLength: number, flags: number): number {
    return this.overhead + keyLength + 1 + valueLength + 2 + (flags !== 0 ? 4 : 0);
  }

  /** The slot of `key` (live or dead), or -1. */
  find(hash: number, key: Uint8Array): number {
    const s = this.slots;
    const n = key.length;
    for (let h = s.bucketHead(hash); h !== -1; h = s.chain[h]) {
      if (s.hashes[h] !== hash || s.keyLen[h] !== n) continue;
      const bytes = this.segments.bytes;
      const start = this.segments.base(s.seg[h]) + s.pos[h] + RECORD_HEADER;
      let i = 0;
      while (i < n && bytes[start + i] === key[i]) i++;
      if (i === n) return h;
    }
    return -1;
  }

  isExpired(h: number, now: number): boolean {
    const e = this.slots.exptime[h];
    return e !== 0 && e <= now;
  }

  isFlushed(h: number, now: number): boolean {
    return this.flushed.covers(this.slots, h, now);
  }

  isDead(h: number, now: number): boolean {
    return this.isExpired(h, now) || this.isFlushed(h, now);
  }

  /** Counts a read for eviction: reads are the credit an item pays its way with. */
  noteRead(h: number): void {
    const f = this.slots.freq;
    if (f[h] < 255) f[h]++;
  }

  /** Reads an item must have had to stay for another pass: more for a bigger one. */
  private rent(slot: number): number {
    const s = this.slots;
    return 1 + ((s.keyLen[slot] + s.valueLen[slot]) >> RENT_SHIFT);
  }

  /** A view of the value in the shared arena: valid while the store lock is held. */
  valueOf(h: number): Uint8Array {
    const s = this.slots;
    const start = this.segments.base(s.seg[h]) + s.pos[h] + RECORD_HEADER + s.keyLen[h];
    return this.segments.bytes.subarray(start, start + s.valueLen[h]);
  }

  keyOf(h: number): Uint8Array {
    const s = this.slots;
    const start = this.segments.base(s.seg[h]) + s.pos[h] + RECORD_HEADER;
    return this.segments.bytes.slice(start, start + s.keyLen[h]);
  }

  /**
   * Writes an item's bytes (replacing slot `old` if not -1), evicting what it must. Returns the
   * slot, or -1 when there is no room and eviction may not make any. Metadata other than key,
   * length and flags is the caller's to set.
   */
  write(req: WriteRequest): number {
    const { key, value, flags, old } = req;
    const s = this.slots;
    const size = this.itemSize(key.length, value.length, flags);
    const reused = old === -1 ? 0 : this.itemSize(s.keyLen[old], s.valueLen[old], s.flags[old]);
    const bytes = this.segments.recordBytes(key.length, value.length);
    const queue = old !== -1
      ? s.queue[old]
      : key.length + value.length < GHOST_ADMIT_BYTES && this.ghost.take(req.hash)
      ? MAIN
      : SMALL;
    this.protectedSlot = old;
    // A bound on the walk, for when everything left must stay (-M, or only `old` is left).
    let steps = 4 * this.slots.count + 64 * this.segments.budget + 64;
    while (this.n[USED_BYTES] - reused + size > this.n[MAX_BYTES]) {
      if (!this.evict || --steps < 0 || !this.walkEither(true)) return this.fail();
    }
    let head: number;
    while ((head = this.headFor(queue, bytes)) === -1) {
      if (this.segments.available > RESERVE) this.openHead(this.preferredHead(queue, bytes));
      else if (--steps < 0 || !this.walkEither(this.evict)) return this.fail();
    }
    this.protectedSlot = -1;
    let h = old;
    if (h === -1) {
      h = s.link(req.hash, key.length);
      s.queue[h] = queue;
      s.freq[h] = 0;
    } else {
      this.uncount(h);
    }
    const seg = this.heads[head];
    s.pos[h] = this.segments.append(seg, h, key, value);
    s.seg[h] = seg;
    s.valueLen[h] = value.length;
    s.flags[h] = flags;
    this.count(h);
    return h;
  }

  /** Drops an item; its record becomes dead bytes. Returns the item's size class. */
  remove(h: number): number {
    const cls = this.uncount(h);
    this.slots.unlink(h);
    return cls;
  }

  /** Forgets every item at once: every segment becomes free. */
  clear(): void {
    this.slots.clear();
    this.segments.clear();
    this.classes.clearItems();
    this.n[USED_BYTES] = this.n[SMALL_BYTES] = 0;
    this.oldest.fill(-1);
    this.newest.fill(-1);
    this.walkAt.fill(0);
    this.heads.fill(-1);
  }

  /**
   * `cache_memlimit`. Raising it allocates nothing: segments come as items are stored. Lowering it
   * evicts at once, down to the new limit and to the new segment budget.
   */
  setMaxBytes(bytes: number): void {
    this.n[MAX_BYTES] = bytes;
    const budget = segmentBudget(bytes, this.segments.size);
    while (this.n[USED_BYTES] > bytes && this.walkEither(true));
    while (this.segments.inUse > budget - RESERVE && this.walkEither(true));
    this.segments.setBudget(budget);
  }

  private fail(): number {
    this.protectedSlot = -1;
    return -1;
  }

  private count(h: number): void {
    const s = this.slots;
    const size = this.itemSize(s.keyLen[h], s.valueLen[h], s.flags[h]);
    this.n[USED_BYTES] += size;
    if (s.queue[h] === SMALL) this.n[SMALL_BYTES] += size;
    this.classes.add(size, 1);
  }

  private uncount(h: number): number {
    const s = this.slots;
    const size = this.itemSize(s.keyLen[h], s.valueLen[h], s.flags[h]);
    this.n[USED_BYTES] -= size;
    if (s.queue[h] === SMALL) this.n[SMALL_BYTES] -= size;
    return this.classes.add(size, -1);
  }

  /** Big records get a head of their own, so that a segment ends with less unused space. */
  private preferredHead(q: number, bytes: number): number {
    return q * 2 + (bytes * BIG_SHARE >= this.segments.size ? 1 : 0);
  }

  /** A head of queue `q` with room for the record, the other one filling gaps; -1 if none. */
  private headFor(q: number, bytes: number): number {
    const preferred = this.preferredHead(q, bytes);
    if (this.segments.room(this.heads[preferred]) >= bytes) return preferred;
    const other = preferred ^ 1;
    return this.segments.room(this.heads[other]) >= bytes ? other : -1;
  }

  /**
   * Opens a new segment as head `head`, at the new end of its queue. A full big head's segment
   * becomes the small head if it has more room (and the walk is not in it): that room gets used.
   */
  private openHead(head: number): void {
    const q = head >> 1;
    const old = this.heads[head];
    const segs = this.segments;
    if (
      (head & 1) === 1 && old !== this.oldest[q] && segs.room(old) > segs.room(this.heads[q * 2])
    ) {
      this.heads[q * 2] = old;
    }
    const seg = segs.open();
    if (this.newest[q] === -1) {
      this.oldest[q] = seg;
      this.walkAt[q] = 0;
    } else {
      this.segments.next[this.newest[q]] = seg;
    }
    this.newest[q] = seg;
    this.heads[head] = seg;
  }

  /** One walk step, in the small queue while it holds its share, else in the main one. */
  private walkEither(evict: boolean): boolean {
    const first = this.n[SMALL_BYTES] >= this.n[MAX_BYTES] * SMALL_SHARE || this.oldest[MAIN] === -1
      ? SMALL
      : MAIN;
    return this.walk(first, evict) || this.walk(1 - first, evict);
  }

  /**
   * Passes the oldest record of queue `q`: keeps it (moving it to a head), evicts or reclaims it,
   * or skips it when dead. Frees the oldest segment once passed. False when there is nothing to
   * pass, or the record must stay and cannot move.
   */
  private walk(q: number, evict: boolean): boolean {
    const segs = this.segments;
    const seg = this.oldest[q];
    if (seg === -1) return false;
    const pos = this.walkAt[q];
    if (pos >= segs.end[seg]) return this.passSegment(q, seg);
    const slot = segs.recordSlot(seg, pos);
    this.walkAt[q] = pos + segs.recordBytes(0, segs.recordLength(seg, pos));
    const s = this.slots;
    if (s.seg[slot] !== seg || s.pos[slot] !== pos) return true;
    const now = this.clock.now;
    if (slot !== this.protectedSlot && this.isDead(slot, now)) {
      this.reclaim(slot);
      return true;
    }
    let to = q;
    if (slot !== this.protectedSlot && evict) {
      const credit = s.freq[slot];
      if (credit === 0) {
        this.evictItem(slot, q, now);
        return true;
      }
      const rent = this.rent(slot);
      if (q === SMALL) {
        // A big item read once gets another round in the small queue, not the main one.
        to = credit >= Math.min(rent, SMALL_RENT_MAX) ? MAIN : SMALL;
        s.freq[slot] = 0;
      } else if (credit >= rent) {
        s.freq[slot] = Math.min(credit - rent, CREDIT_MAX * rent);
      } else {
        this.evictItem(slot, q, now);
        return true;
      }
    }
    if (this.move(slot, to)) return true;
    if (evict && slot !== this.protectedSlot) {
      this.evictItem(slot, q, now);
      return true;
    }
    this.walkAt[q] = pos;
    return false;
  }

  /** The walk has passed every record of `seg`: free it, or reuse it when it is still open. */
  private passSegment(q: number, seg: number): boolean {
    const segs = this.segments;
    const open = this.heads.indexOf(seg);
    if (segs.next[seg] === -1) {
      // The queue's only segment: everything in it is passed, so it starts over empty.
      if (segs.end[seg] === 0) return false;
      segs.end[seg] = 0;
      this.walkAt[q] = 0;
      return true;
    }
    if (open !== -1) this.heads[open] = -1;
    this.oldest[q] = segs.next[seg];
    this.walkAt[q] = 0;
    segs.release(seg);
    return true;
  }

  /** Moves a live record to the head of queue `to`; false when no segment is left for it. */
  private move(slot: number, to: number): boolean {
    const s = this.slots;
    const segs = this.segments;
    const bytes = segs.recordBytes(s.keyLen[slot], s.valueLen[slot]);
    let head = this.headFor(to, bytes);
    if (head === -1) {
      if (segs.available === 0) return false;
      head = this.preferredHead(to, bytes);
      this.openHead(head);
    }
    this.uncount(slot);
    const seg = this.heads[head];
    s.pos[slot] = segs.copy(s.seg[slot], s.pos[slot], seg);
    s.seg[slot] = seg;
    s.queue[slot] = to;
    this.count(slot);
    return true;
  }

  private reclaim(slot: number): void {
    const unfetched = (this.slots.bits[slot] & FETCHED) === 0;
    this.classes.countReclaim(this.counters, this.uncount(slot), unfetched);
    this.slots.unlink(slot);
  }

  private evictItem(slot: number, q: number, now: number): void {
    if (this.onEvict !== null) this.onEvict(slot);
    const s = this.slots;
    const fetched = (s.bits[slot] & FETCHED) !== 0;
    const active = fetched && s.lastAccess[slot] >= now - 60;
    this.classes.countEviction(this.counters, this.uncount(slot), fetched, active);
    if (q === SMALL) this.ghost.add(s.hashes[slot], s.count);
    s.unlink(slot);
  }
}
