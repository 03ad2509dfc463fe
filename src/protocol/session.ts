import type { Output } from "./output.ts";

/** One protocol spoken over one connection: bytes in, responses appended to `out`. */
export interface Session {
  /**
   * Handles every complete request in buf[start, end), appending responses to `out`, and returns
   * the offset of the first byte not consumed.
   */
  consume(buf: Uint8Array, start: number, end: number, out: Output): number;
  /** Bytes the pending request needs from its first byte, when known (0 otherwise). */
  need: number;
  /** Set when the connection must close after the pending responses are written. */
  closing: boolean;
  /** Set when it stopped early (-R) with complete requests left: consume again before reading. */
  yielded?: boolean;
  /** Output still being written after consume returned (a streamed dump): wait before going on. */
  pending?: Promise<void> | null;
  /** The connection is closing: let go of what the session registered (a watcher). */
  close?(): void;
}
