/**
 * Item bytes live in fixed-size segments, each its own ArrayBuffer, written front to back as a
 * log: a record is [slot u32][key+value length u32][key][value], padded to 4 bytes. A segment is
 * allocated only when the log first needs it, so memory grows with what is stored and a raised
 * limit commits nothing; a segment freed by eviction is reused as it is, never copied.
 *
 * A record is live while its slot still points at it (slots.ts): an overwritten or deleted item
 * leaves dead bytes that are reclaimed when eviction walks past them.
 */
export const RECORD_HEADER = 8;

export class Segments {
  /** Bytes per segment: room for the largest item. */
  readonly size: number;
  /** Segment buffers by id; an id whose buffer was dropped holds an empty array. */
  readonly bufs: Uint8Array<ArrayBuffer>[] = [];
  private readonly words: Int32Array[] = [];
  /** Per segment: bytes written, and the next segment of its queue (-1 at the head). */
  end: number[] = [];
  next: number[] = [];
  /** Segments the store may hold at once. */
  budget: number;
  /** Segments holding records (or open for writing). */
  inUse = 0;
  private readonly spare: number[] = [];

  constructor(budget: number, itemSizeMax: number) {
    let size = 1 << 20;
    while (size < itemSizeMax) size *= 2;
    this.size = size;
    this.budget = budget;
  }

  /** Segments that may still be opened. */
  get available(): number {
    return this.budget - this.inUse;
  }

  /** Bytes of segment buffers allocated (in use or kept for reuse). */
  get allocatedBytes(): number {
    let n = 0;
    for (const b of this.bufs) n += b.length;
    return n;
  }

  /** An empty segment, allocating its buffer if none is spare. The caller checks the budget. */
  open(): number {
    let id = this.spare.pop();
    if (id === undefined) {
      id = this.bufs.findIndex((b) => b.length === 0);
      if (id === -1) id = this.bufs.length;
      const buf = new Uint8Array(this.size);
      this.bufs[id] = buf;
      this.words[id] = new Int32Array(buf.buffer);
    }
    this.end[id] = 0;
    this.next[id] = -1;
    this.inUse++;
    return id;
  }

  /** Returns a segment whose records are all dead or moved; its buffer is kept for reuse. */
  release(id: number): void {
    this.inUse--;
    if (this.inUse + this.spare.length < this.budget) this.spare.push(id);
    else this.drop(id);
  }

  /** Changes the budget; spare buffers beyond it are let go. */
  setBudget(budget: number): void {
    this.budget = budget;
    while (this.spare.length > 0 && this.inUse + this.spare.length > budget) {
      this.drop(this.spare.pop()!);
    }
  }

  /** Every segment becomes spare (flush_all). */
  clear(): void {
    this.spare.length = 0;
    for (let id = 0; id < this.bufs.length; id++) {
      if (this.bufs[id].length > 0) this.spare.push(id);
    }
    this.inUse = 0;
  }

  /** Bytes left at the end of segment `id` (0 for none, -1). */
  room(id: number): number {
    return id === -1 ? 0 : this.size - this.end[id];
  }

  /** Bytes a record of this key and value takes, header and padding included. */
  recordBytes(keyLength: number, valueLength: number): number {
    return (RECORD_HEADER + keyLength + valueLength + 3) & ~3;
  }

  /** Appends a record to segment `id` at its end; returns the record's offset. */
  append(id: number, slot: number, key: Uint8Array, value: Uint8Array): number {
    const pos = this.end[id];
    const words = this.words[id];
    words[pos >> 2] = slot;
    words[(pos >> 2) + 1] = key.length + value.length;
    const buf = this.bufs[id];
    buf.set(key, pos + RECORD_HEADER);
    buf.set(value, pos + RECORD_HEADER + key.length);
    this.end[id] = pos + this.recordBytes(key.length, value.length);
    return pos;
  }

  /** Copies a record into segment `to` at its end; returns the new offset. */
  copy(from: number, pos: number, to: number): number {
    const bytes = this.recordBytes(0, this.recordLength(from, pos));
    const at = this.end[to];
    this.bufs[to].set(this.bufs[from].subarray(pos, pos + bytes), at);
    this.end[to] = at + bytes;
    return at;
  }

  recordSlot(id: number, pos: number): number {
    return this.words[id][pos >> 2];
  }

  /** Key plus value bytes of the record at `pos`. */
  recordLength(id: number, pos: number): number {
    return this.words[id][(pos >> 2) + 1];
  }

  private drop(id: number): void {
    this.bufs[id] = new Uint8Array(0);
    this.words[id] = new Int32Array(0);
  }
}
