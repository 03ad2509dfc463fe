/**
 * The state of one binary request and the connection around it (read buffer, header offset, what
 * is still needed or to be dropped, authentication), and the response headers every command
 * writes. Commands take this, not the session.
 */
import type { ConnectionInfo, ServerContext } from "../../context.ts";
import type { Store } from "../../store/store.ts";
import { release } from "../held.ts";
import type { Output } from "../output.ts";
import { Status, statusMessage, writeHeader } from "./wire.ts";

/** Returned by a handler that needs more bytes than the buffer holds. */
export const NEED_MORE = -1;

export class BinaryRequest {
  /** Bytes the pending request needs from its first byte, when known (0 otherwise). */
  need = 0;
  /** Set when the connection must close after the pending responses are written. */
  closing = false;
  /** Bytes of a refused or unknown request still to be dropped. */
  swallow = 0;
  authenticated: boolean;
  /** SASL PLAIN started without an initial response: the next SASL step carries it. */
  saslContinue = false;
  buf: Uint8Array = new Uint8Array(0);
  out!: Output;
  /** Offset of the current request's header in `buf`. */
  at = 0;
  readonly store: Store;

  constructor(readonly ctx: ServerContext, readonly conn: ConnectionInfo | null) {
    this.store = ctx.store;
    this.authenticated = !ctx.config.saslEnabled;
  }

  /** A success header; the caller appends `bodyLength` bytes. */
  ok(extLength: number, keyLength: number, bodyLength: number, cas = 0n): void {
    writeHeader(this.out, this.buf, this.at, Status.OK, extLength, keyLength, bodyLength, cas);
  }

  /** An error response with memcached's text for the status (or `message`). */
  error(status: number, message = statusMessage(status)): void {
    writeHeader(this.out, this.buf, this.at, status, 0, 0, message.length, 0n);
    this.out.ascii(message);
    // memcached writes out at once after an error (unless it swallows a body first; then a
    // little later): the items earlier answers held are let go.
    release();
  }

  /** An error after which memcached closes the connection. */
  fatal(status: number, after: number): number {
    this.error(status);
    this.closing = true;
    return after;
  }

  unknown(after: number, skip: number): number {
    this.error(Status.UNKNOWN_COMMAND);
    this.skip(skip);
    return after;
  }

  /**
   * Drops the next `bytes` of a refused request. memcached holds the length in a signed 32-bit
   * int and skips nothing when that is not positive: a body length of 2 GiB or more (0xffffffff
   * is the usual probe) is answered, and the bytes after the header are read as the next request.
   */
  skip(bytes: number): void {
    this.swallow = Math.max(bytes | 0, 0);
  }
}
