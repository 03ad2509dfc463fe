/**
 * Item bytes live in fixed-size segments of one shared arena (a growable SharedArrayBuffer every
 * worker maps), written front to back as a log: a record is [slot u32][key+value length u32][key]
 * [value], padded to 4 bytes. The arena grows a segment at a time, only when the log first needs
 * one, so memory grows with what is stored and a raised limit commits nothing; a segment freed by
 * eviction is reused as it is, never copied.
 *
 * A record is live while its slot still points at it (slots.ts): an overwritten or deleted item
 * leaves dead bytes that are reclaimed when eviction walks past them.
 */
import { MAX_GROWABLE_BYTES, type SharedMemory } from "./memory.ts";

export const RECORD_HEADER = 8;

// Shared numbers.
const BUDGET = 0;
const IN_USE = 1;
const ALLOCATED = 2;
const SPARE = 3;

export class Segments {
  /** Bytes per segment: room for the largest item. */
  readonly size: number;
  /** Words (4 bytes) per segment: arena offsets pass 2^32, past what `>>` can shift. */
  private readonly quarter: number;
  /** The arena: segment `id` is bytes [id * size, (id + 1) * size). */
  bytes!: Uint8Array;
  private words!: Int32Array;
  /** Per segment: bytes written, and the next segment of its queue (-1 at the head). */
  readonly end: Int32Array;
  readonly next: Int32Array;
  /** Freed segments, a stack of ids. */
  private readonly spare: Int32Array;
  private readonly n: Float64Array;
  private readonly arena: SharedArrayBuffer;

  constructor(private readonly memory: SharedMemory, budget: number, itemSizeMax: number) {
    let size = 1 << 20;
    while (size < itemSizeMax) size *= 2;
    this.size = size;
    this.quarter = size / 4;
    const most = Math.floor(MAX_GROWABLE_BYTES / size);
    this.end = new Int32Array(memory.take("segments.end", most * 4));
    this.next = new Int32Array(memory.take("segments.next", most * 4));
    this.spare = new Int32Array(memory.take("segments.spare", most * 4));
    this.arena = memory.take("segments.arena", 0, most * size);
    this.n = memory.scalars("segments", 4);
    if (memory.creator) this.n[BUDGET] = budget;
    this.remap();
  }

  /** Rebuilds the arena's views (after another thread grew it). */
  remap(): void {
    const length = this.n[ALLOCATED] * this.size;
    if (this.bytes?.length === length) return;
    this.bytes = new Uint8Array(this.arena, 0, length);
    this.words = new Int32Array(this.arena, 0, length / 4);
  }

  /** Segments the store may hold at once. */
  get budget(): number {
    return this.n[BUDGET];
  }
  /** Segments holding records (or open for writing). */
  get inUse(): number {
    return this.n[IN_USE];
  }

  /** Segments that may still be opened. */
  get available(): number {
    return this.n[BUDGET] - this.n[IN_USE];
  }

  /** Bytes of segments allocated (in use or kept for reuse). */
  get allocatedBytes(): number {
    return this.n[ALLOCATED] * this.size;
  }

  /** An empty segment, growing the arena if none is spare. The caller checks the budget. */
  open(): number {
    const n = this.n;
    let id: number;
    if (n[SPARE] > 0) {
      id = this.spare[--n[SPARE]];
    } else {
      id = n[ALLOCATED]++;
      this.memory.grow(this.arena, n[ALLOCATED] * this.size);
      this.remap();
    }
    this.end[id] = 0;
    this.next[id] = -1;
    n[IN_USE]++;
    return id;
  }

  /**
   * Returns a segment whose records are all dead or moved; it is kept for reuse (a shared arena
   * cannot give pages back, so a lowered limit keeps what was allocated, reused first).
   */
  release(id: number): void {
    this.n[IN_USE]--;
    this.spare[this.n[SPARE]++] = id;
  }

  /** Changes the budget. */
  setBudget(budget: number): void {
    this.n[BUDGET] = budget;
  }

  /** Every segment becomes spare (flush_all). */
  clear(): void {
    const n = this.n;
    for (let id = 0; id < n[ALLOCATED]; id++) this.spare[id] = id;
    n[SPARE] = n[ALLOCATED];
    n[IN_USE] = 0;
  }

  /** Bytes left at the end of segment `id` (0 for none, -1). */
  room(id: number): number {
    return id === -1 ? 0 : this.size - this.end[id];
  }

  /** Bytes a record of this key and value takes, header and padding included. */
  recordBytes(keyLength: number, valueLength: number): number {
    return (RECORD_HEADER + keyLength + valueLength + 3) & ~3;
  }

  /** Where segment `id` starts in the arena. */
  base(id: number): number {
    return id * this.size;
  }

  /** Appends a record to segment `id` at its end; returns the record's offset in the segment. */
  append(id: number, slot: number, key: Uint8Array, value: Uint8Array): number {
    const pos = this.end[id];
    const at = id * this.size + pos;
    const word = id * this.quarter + (pos >>> 2);
    this.words[word] = slot;
    this.words[word + 1] = key.length + value.length;
    const buf = this.bytes;
    buf.set(key, at + RECORD_HEADER);
    buf.set(value, at + RECORD_HEADER + key.length);
    this.end[id] = pos + this.recordBytes(key.length, value.length);
    return pos;
  }

  /** Copies a record into segment `to` at its end; returns the new offset. */
  copy(from: number, pos: number, to: number): number {
    const bytes = this.recordBytes(0, this.recordLength(from, pos));
    const at = this.end[to];
    const src = from * this.size + pos;
    this.bytes.copyWithin(to * this.size + at, src, src + bytes);
    this.end[to] = at + bytes;
    return at;
  }

  recordSlot(id: number, pos: number): number {
    return this.words[id * this.quarter + (pos >>> 2)];
  }

  /** Key plus value bytes of the record at `pos`. */
  recordLength(id: number, pos: number): number {
    return this.words[id * this.quarter + (pos >>> 2) + 1];
  }
}
