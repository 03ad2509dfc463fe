/**
 * Pending output past which a session stops handling requests so the connection writes what it
 * has first: a batch of small answers is still one write, while a batch of large ones (pipelined
 * gets of big values, a long multi-get) is streamed with at most about this much in memory, and a
 * client that does not read stops being read.
 */
export const FLUSH_AT = 256 * 1024;

/**
 * A growable byte buffer that collects the responses to one batch of requests, so each batch is
 * answered with one write (or one write per FLUSH_AT bytes).
 */
/** Batches in a row that use a quarter of a grown buffer or less before it is given back. */
const SHRINK_AFTER = 64;

export class Output {
  buf: Uint8Array;
  length = 0;
  private smallBatches = 0;

  constructor(size = 16384) {
    this.buf = new Uint8Array(size);
  }

  ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  /** Appends an ASCII string (protocol words, numbers already formatted). */
  ascii(text: string): void {
    const n = text.length;
    this.ensure(n);
    const b = this.buf;
    let p = this.length;
    for (let i = 0; i < n; i++) b[p++] = text.charCodeAt(i);
    this.length = p;
  }

  /** Appends an ASCII string followed by CRLF. */
  line(text: string): void {
    this.ascii(text);
    this.crlf();
  }

  crlf(): void {
    this.ensure(2);
    this.buf[this.length++] = 13;
    this.buf[this.length++] = 10;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.length);
    this.length += data.length;
  }

  /** Appends a non-negative integer in decimal without allocating a string. */
  uint(n: number): void {
    if (n < 10) {
      this.byte(48 + n);
      return;
    }
    if (n > 0xffffffff) {
      this.ascii(String(n));
      return;
    }
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    this.ensure(digits);
    let p = this.length + digits;
    this.length = p;
    const b = this.buf;
    do {
      b[--p] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
  }

  /** True when the connection should write before more requests are handled. */
  full(): boolean {
    return this.length >= FLUSH_AT;
  }

  /** The bytes collected so far (a view, valid until the next append). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** Drops everything after `mark` (a length taken earlier): undoes a half-written response. */
  truncate(mark: number): void {
    this.length = mark;
  }

  /**
   * Empties the buffer. A grown one is kept while batches keep needing a quarter of it: giving it
   * back after every big batch churned the allocator into ~60 MiB of extra RSS with big values.
   */
  reset(): void {
    this.smallBatches = this.length * 4 <= this.buf.length ? this.smallBatches + 1 : 0;
    this.length = 0;
    if (this.buf.length > 1 << 20 && this.smallBatches >= SHRINK_AFTER) {
      this.buf = new Uint8Array(16384);
    }
  }
}
