/**
 * S3-FIFO's ghost queue, as a direct-mapped table of key hashes: a key evicted unread from the
 * small queue is remembered until another hash takes its cell, and when it is stored again soon
 * it goes straight to the main queue. Four bytes per entry, no object per key; the table is shared
 * by every worker thread and grows in place.
 */
import { MAX_GROWABLE_BYTES, type SharedMemory } from "./memory.ts";

const SIZE = 0;

export class Ghost {
  private table!: Int32Array;
  private readonly n: Float64Array;
  private readonly sab: SharedArrayBuffer;

  constructor(private readonly memory: SharedMemory, entries: number) {
    const size = 1 << Math.ceil(Math.log2(Math.max(entries, 1024)));
    this.n = memory.scalars("ghost", 1);
    this.sab = memory.take("ghost.table", size * 4, MAX_GROWABLE_BYTES);
    if (memory.creator) this.n[SIZE] = size;
    this.remap();
  }

  remap(): void {
    if (this.table?.length !== this.n[SIZE]) this.table = new Int32Array(this.sab, 0, this.n[SIZE]);
  }

  /** Remembers a hash; the table grows with the items the cache holds, forgetting what it had. */
  add(hash: number, items: number): void {
    if (this.table.length < items) {
      const size = this.table.length * 2;
      this.memory.grow(this.sab, size * 4);
      this.n[SIZE] = size;
      this.remap();
      this.table.fill(0);
    }
    this.table[this.index(hash)] = hash | 1;
  }

  /** True, once, when the hash is remembered. */
  take(hash: number): boolean {
    const i = this.index(hash);
    if (this.table[i] !== (hash | 1)) return false;
    this.table[i] = 0;
    return true;
  }

  private index(hash: number): number {
    return (Math.imul(hash, 0x9e3779b1) >>> 0) & (this.table.length - 1);
  }
}
