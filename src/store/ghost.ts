/**
 * S3-FIFO's ghost queue, as a direct-mapped table of key hashes: a key evicted unread from the
 * small queue is remembered until another hash takes its cell, and when it is stored again soon
 * it goes straight to the main queue. Four bytes per entry, no object per key.
 */
export class Ghost {
  private table: Int32Array;

  constructor(entries: number) {
    this.table = new Int32Array(1 << Math.ceil(Math.log2(Math.max(entries, 1024))));
  }

  /** Remembers a hash; the table grows with the items the cache holds, forgetting what it had. */
  add(hash: number, items: number): void {
    if (this.table.length < items) this.table = new Int32Array(this.table.length * 2);
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
