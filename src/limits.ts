/** Descriptors the runtime, listeners, files and HTTP door need besides -c clients. */
export const RESERVED_DESCRIPTORS = 64;

/**
 * What clients can make the server hold, bounded across every connection and door: bytes of
 * values still arriving (read buffers grown for a pending value or line, HTTP bodies being read).
 * memcached allocates an arriving value from its slab memory up front; here it is held in a
 * buffer, so it gets its own bound (--max-inflight).
 */
export class Limits {
  /** Bytes held now for values still arriving. */
  inflightBytes = 0;

  constructor(readonly maxInflightBytes: number) {}

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
