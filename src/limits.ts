/** Descriptors the runtime, listeners, files and HTTP door need besides -c clients. */
export const RESERVED_DESCRIPTORS = 64;

/**
 * What clients can make the server hold, bounded across every connection and door: descriptors,
 * bytes of values still arriving (read buffers grown for a pending value or line, HTTP bodies being read).
 * memcached allocates an arriving value from its slab memory up front; here it is held in a
 * buffer, so it gets its own bound (--max-inflight).
 */
export class Limits {
  /** Bytes held now for values still arriving. */
  inflightBytes = 0;
  /** Client connections open now, every door together. */
  clients = 0;

  /** `maxClients`: what the descriptors allow for clients of every door together. */
  constructor(readonly maxInflightBytes: number, readonly maxClients = Infinity) {}

  /** Counts a new client in, or false when no descriptor is left for it. */
  admitClient(): boolean {
    if (this.clients >= this.maxClients) return false;
    this.clients++;
    return true;
  }

  releaseClient(): void {
    this.clients--;
  }

  /** True when `bytes` more may be held for values still arriving. */
  canHold(bytes: number): boolean {
    return this.inflightBytes + bytes <= this.maxInflightBytes;
  }

  hold(bytes: number): void {
    this.inflightBytes += bytes;
  }

  release(bytes: number): void {
    this.inflightBytes -= bytes;
  }
}
