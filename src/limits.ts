/** Descriptors the runtime, listeners, files and HTTP door need besides -c clients. */
export const RESERVED_DESCRIPTORS = 64;

/** Bytes of shared memory the limits keep their figures in (one cell each). */
export const LIMITS_BYTES = 24;
const INFLIGHT = 0;
const HTTP_CONNECTIONS = 1;
const CLIENTS = 2;

/**
 * What clients can make the server hold, bounded across every connection, door and thread:
 * descriptors, bytes of values still arriving (read buffers grown for a pending value or line, HTTP
 * bodies being read), and HTTP connections. memcached allocates an arriving value from its slab
 * memory up front; here it is held in a buffer, so it gets its own bound (--max-inflight). The
 * figures live in shared memory, so -t N threads share one budget; two threads may each pass a
 * check at the same moment and overshoot it by one request's bytes, never more.
 */
export class Limits {
  private readonly cells: BigInt64Array;

  /** `maxClients`: what the descriptors allow for clients of every door together. */
  constructor(
    readonly maxInflightBytes: number,
    public maxClients = Infinity,
    shared: SharedArrayBuffer = new SharedArrayBuffer(LIMITS_BYTES),
  ) {
    this.cells = new BigInt64Array(shared);
  }

  /** Bytes held now for values still arriving. */
  get inflightBytes(): number {
    return Number(Atomics.load(this.cells, INFLIGHT));
  }

  /** Client connections open now, every door and thread together. */
  get clients(): number {
    return Number(Atomics.load(this.cells, CLIENTS));
  }

  /** Counts a new client in, or false when no descriptor is left for it. */
  admitClient(): boolean {
    return this.take(CLIENTS, this.maxClients);
  }

  releaseClient(): void {
    Atomics.sub(this.cells, CLIENTS, 1n);
  }

  /** True when `bytes` more may be held for values still arriving. */
  canHold(bytes: number): boolean {
    return this.inflightBytes + bytes <= this.maxInflightBytes;
  }

  hold(bytes: number): void {
    if (bytes !== 0) Atomics.add(this.cells, INFLIGHT, BigInt(bytes));
  }

  release(bytes: number): void {
    if (bytes !== 0) Atomics.sub(this.cells, INFLIGHT, BigInt(bytes));
  }

  /** Counts an HTTP connection in, unless `limit` are open already. */
  openHttp(limit: number): boolean {
    return this.take(HTTP_CONNECTIONS, limit);
  }

  closeHttp(): void {
    Atomics.sub(this.cells, HTTP_CONNECTIONS, 1n);
  }

  private take(cell: number, limit: number): boolean {
    if (Number(Atomics.add(this.cells, cell, 1n)) < limit) return true;
    Atomics.sub(this.cells, cell, 1n);
    return false;
  }
}
