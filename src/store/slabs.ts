/**
 * Item bytes live in one large ArrayBuffer (the arena), carved into pages; each page serves chunks
 * of one size class, as memcached's slabs do. The arena is reserved up front but the operating
 * system commits its pages only when they are first written, so an empty cache stays small.
 *
 * Chunks are addressed in units of 8 bytes (a Uint32 reaches 32 GiB). A free chunk's first word
 * links to the next free chunk of its page, so free space costs no object and no side table.
 */
export const CHUNK_UNIT = 8;
const MIN_CHUNK = 16;
const GROWTH = 1.08;
const SMALL_LOOKUP_LIMIT = 4096;

export class Slabs {
  /** The arena. Replaced (copied) only when a raised limit outgrows it. */
  bytes: Uint8Array<ArrayBuffer>;
  /** The arena as 32-bit words, for free-list links. */
  private words: Int32Array;
  readonly pageSize: number;
  private readonly pageUnits: number;
  private readonly pageShift: number;
  /** Chunk size of each class, in bytes. */
  readonly chunkSizes: Int32Array;
  private readonly chunkUnits: Int32Array;
  /** Class of sizes up to SMALL_LOOKUP_LIMIT, indexed by ceil(size / 8). */
  private readonly smallClass: Uint16Array;

  private pageLimit: number;
  /** Pages ever carved from the arena (the rest is untouched). */
  private pagesCarved = 0;
  private freePages: Int32Array;
  private freePageCount = 0;
  private pageClass: Int32Array;
  private pageLive: Int32Array;
  private pageBump: Int32Array;
  private pageFree: Int32Array;
  private pageNext: Int32Array;
  private pagePrev: Int32Array;
  private pageListed: Uint8Array;
  /** Per class: first page with room, and pages owned. */
  private readonly classPartial: Int32Array;
  private readonly classPages: Int32Array;

  /**
   * @param limitBytes memory the pages may use; a class that owns no page may still take one, as
   * in memcached, so every item size can be stored however small the limit.
   * @param largestChunk the largest chunk ever asked for (the item size limit).
   */
  constructor(limitBytes: number, largestChunk: number) {
    let pageSize = 1 << 20;
    while (pageSize < largestChunk) pageSize *= 2;
    this.pageSize = pageSize;
    this.pageUnits = pageSize / CHUNK_UNIT;
    this.pageShift = Math.log2(this.pageUnits);

    const sizes: number[] = [];
    for (let s = MIN_CHUNK; s < pageSize;) {
      sizes.push(s);
      s = Math.max(s + CHUNK_UNIT, Math.floor((s * GROWTH) / CHUNK_UNIT) * CHUNK_UNIT);
    }
    sizes.push(pageSize);
    this.chunkSizes = Int32Array.from(sizes);
    this.chunkUnits = Int32Array.from(sizes, (s) => s / CHUNK_UNIT);
    this.smallClass = new Uint16Array(SMALL_LOOKUP_LIMIT / CHUNK_UNIT + 1);
    for (let u = 0, c = 0; u < this.smallClass.length; u++) {
      while (this.chunkSizes[c] < u * CHUNK_UNIT) c++;
      this.smallClass[u] = c;
    }
    const classes = sizes.length;
    this.classPartial = new Int32Array(classes).fill(-1);
    this.classPages = new Int32Array(classes);

    this.pageLimit = pageBudget(limitBytes, pageSize);
    const capacity = this.pageLimit + classes;
    this.freePages = new Int32Array(capacity);
    this.pageClass = new Int32Array(capacity);
    this.pageLive = new Int32Array(capacity);
    this.pageBump = new Int32Array(capacity);
    this.pageFree = new Int32Array(capacity);
    this.pageNext = new Int32Array(capacity);
    this.pagePrev = new Int32Array(capacity);
    this.pageListed = new Uint8Array(capacity);
    this.bytes = reserve(capacity * pageSize, pageSize, pageSize);
    this.words = new Int32Array(this.bytes.buffer);
  }

  /** Pages carved from the arena but assigned to no class, ready for any. */
  get unassignedPages(): number {
    return this.freePageCount;
  }

  /** Bytes of pages in use (each holds chunks of one class). */
  get pagesBytes(): number {
    return (this.pagesCarved - this.freePageCount) * this.pageSize;
  }

  /** Changes the page budget; pages above a lowered budget return as their items go. */
  setLimit(limitBytes: number): void {
    this.pageLimit = pageBudget(limitBytes, this.pageSize);
    const capacity = this.pageLimit + this.chunkSizes.length;
    if (capacity > this.pageClass.length) this.growTables(capacity);
  }

  /** The class whose chunks hold `size` bytes. */
  classFor(size: number): number {
    if (size <= SMALL_LOOKUP_LIMIT) return this.smallClass[(size + CHUNK_UNIT - 1) >> 3];
    const sizes = this.chunkSizes;
    let lo = this.smallClass[SMALL_LOOKUP_LIMIT >> 3];
    let hi = sizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sizes[mid] < size) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A chunk of class `cls` (in 8-byte units), or -1 when the budget is spent: evict and retry. */
  alloc(cls: number): number {
    let p = this.classPartial[cls];
    if (p === -1) {
      p = this.newPage(cls);
      if (p === -1) return -1;
    }
    let chunk = this.pageFree[p];
    if (chunk !== -1) {
      this.pageFree[p] = this.words[chunk * 2];
    } else {
      chunk = p * this.pageUnits + this.pageBump[p];
      this.pageBump[p] += this.chunkUnits[cls];
    }
    this.pageLive[p]++;
    if (this.pageFree[p] === -1 && this.pageBump[p] + this.chunkUnits[cls] > this.pageUnits) {
      this.unlist(p, cls);
    }
    return chunk;
  }

  /** Returns a chunk; a page left empty goes back to the pool for any class. */
  free(chunk: number): void {
    const p = chunk >>> this.pageShift;
    const cls = this.pageClass[p];
    this.words[chunk * 2] = this.pageFree[p];
    this.pageFree[p] = chunk;
    if (--this.pageLive[p] === 0) {
      if (this.pageListed[p] === 1) this.unlist(p, cls);
      this.pageClass[p] = -1;
      this.classPages[cls]--;
      this.freePages[this.freePageCount++] = p;
    } else if (this.pageListed[p] === 0) {
      this.list(p, cls);
    }
  }

  /** Forgets every chunk (flush_all). Pages already touched stay committed for reuse. */
  clear(): void {
    this.classPartial.fill(-1);
    this.classPages.fill(0);
    this.pageListed.fill(0);
    this.freePageCount = 0;
    for (let p = this.pagesCarved - 1; p >= 0; p--) {
      this.pageClass[p] = -1;
      this.freePages[this.freePageCount++] = p;
    }
  }

  private newPage(cls: number): number {
    const inUse = this.pagesCarved - this.freePageCount;
    if (inUse >= this.pageLimit && this.classPages[cls] > 0) return -1;
    let p: number;
    if (this.freePageCount > 0) {
      p = this.freePages[--this.freePageCount];
    } else {
      p = this.pagesCarved;
      if (p >= this.pageClass.length) this.growTables(p + 1);
      if ((p + 1) * this.pageSize > this.bytes.length) this.growArena((p + 1) * this.pageSize);
      this.pagesCarved++;
    }
    this.pageClass[p] = cls;
    this.pageLive[p] = 0;
    this.pageBump[p] = 0;
    this.pageFree[p] = -1;
    this.classPages[cls]++;
    this.list(p, cls);
    return p;
  }

  private list(p: number, cls: number): void {
    const head = this.classPartial[cls];
    this.pagePrev[p] = -1;
    this.pageNext[p] = head;
    if (head !== -1) this.pagePrev[head] = p;
    this.classPartial[cls] = p;
    this.pageListed[p] = 1;
  }

  private unlist(p: number, cls: number): void {
    const prev = this.pagePrev[p];
    const next = this.pageNext[p];
    if (prev !== -1) this.pageNext[prev] = next;
    else this.classPartial[cls] = next;
    if (next !== -1) this.pagePrev[next] = prev;
    this.pageListed[p] = 0;
  }

  private growTables(capacity: number): void {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    this.freePages = grow(this.freePages);
    this.pageClass = grow(this.pageClass);
    this.pageLive = grow(this.pageLive);
    this.pageBump = grow(this.pageBump);
    this.pageFree = grow(this.pageFree);
    this.pageNext = grow(this.pageNext);
    this.pagePrev = grow(this.pagePrev);
    const listed = new Uint8Array(capacity);
    listed.set(this.pageListed);
    this.pageListed = listed;
  }

  private growArena(minBytes: number): void {
    let size = Math.max(this.bytes.length * 2, this.pageSize);
    while (size < minBytes) size *= 2;
    const capacity = this.pageClass.length * this.pageSize;
    const next = reserve(Math.max(minBytes, Math.min(size, capacity)), minBytes, this.pageSize);
    next.set(this.bytes.subarray(0, this.pagesCarved * this.pageSize));
    this.bytes = next;
    this.words = new Int32Array(next.buffer);
  }
}

/**
 * Pages allowed for a limit. The limit itself is enforced on the bytes items count (memcached's
 * ITEM_ntotal, which the store evicts by); the pages get an eighth more, so that rounding up to a
 * chunk size does not make them evict first.
 */
function pageBudget(limitBytes: number, pageSize: number): number {
  return Math.max(1, Math.ceil((limitBytes * 1.125) / pageSize));
}

/**
 * Reserves `want` bytes of zeroed memory (at least `min`). The system commits it page by page as
 * it is written; when it refuses the whole reservation, start smaller and let the arena grow.
 */
function reserve(want: number, min: number, pageSize: number): Uint8Array<ArrayBuffer> {
  for (let size = want;; size = Math.max(min, Math.ceil(size / 2 / pageSize) * pageSize)) {
    try {
      return new Uint8Array(size);
    } catch (err) {
      if (!(err instanceof RangeError) || size <= min) throw err;
    }
  }
}
