/**
 * One HTTP/1.1 client: read a head (within 16 KiB), hand the request to the handler, write its
 * answer, repeat while the connection is kept alive. Requests on one connection are answered in
 * order, one at a time, so a pipelining client holds one request's worth of memory.
 *
 * The connection says which phase it is in; the server's reaper closes it when a phase lasts too
 * long (idle between requests, a head that does not finish, an answer the client does not read).
 */
import { freeNow } from "../../bytes.ts";
import { type BodyReader, chunkedBody, lengthBody, type Source } from "./body.ts";
import { headEnd, HeadError, parseHead, type RequestHead } from "./head.ts";
import type { PlainAnswer } from "../../http_answer.ts";
import { CONTINUE, errorResponse, writeAnswer } from "./response.ts";

/** The largest head (request line and headers) read; 431 beyond, as Node's default. */
const MAX_HEAD = 16 * 1024;
/** How long a closing connection takes what its client still sends (see finish). */
const LINGER_MS = 1000;

/** idle: waiting for a request; head: one started; busy: the handler has it; write: answering. */
export type Phase = "idle" | "head" | "busy" | "write";

/** What answers requests: `fetch`, and first `plainRead` for a GET when there is one. */
export interface Handler {
  fetch(request: Request): Response | Promise<Response>;
  plainRead: ((url: string) => Response | PlainAnswer | null) | null;
}

export interface ConnectionHooks {
  /** The origin requests are addressed to when the Host header does not name one. */
  origin: string;
  /** True once the server stops: the answer in progress is the last. */
  stopping(): boolean;
  /** A request the server itself refused (its own error answers). */
  refused(): void;
  /** The answer's bytes are its own: the store lock can go before the write (PlainAnswer). */
  copied(): void;
}

const HOST = /^[A-Za-z0-9.\-:\[\]_]+$/;
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);

export class HttpConnection implements Source {
  buf = new Uint8Array(MAX_HEAD);
  start = 0;
  end = 0;
  phase: Phase = "idle";
  /** Reaper ticks (seconds) spent in this phase, or in the write in progress. */
  ticks = 0;
  /** Where the search for the end of the head goes on from (bytes before it were searched). */
  private searched = 0;
  /** A write is waiting for the client to take bytes. */
  writing = false;
  private continuePending = false;
  /** A GET or HEAD came with a body not yet arrived, which nothing will read. */
  private unreadBody = false;
  /** The client closed its side, or the connection was closed. */
  private ended = false;

  constructor(readonly conn: Deno.Conn, private readonly hooks: ConnectionHooks) {}

  /**
   * Ends the connection once serve() returned. When the client may still be sending (a body we
   * refused), stop writing and take its bytes for a moment first: closing with input unread
   * resets the connection, and a reset can destroy the answer before the client reads it.
   */
  async finish(): Promise<void> {
    if (!this.ended) {
      try {
        (this.conn as Deno.TcpConn).closeWrite();
        const deadline = setTimeout(() => this.close(), LINGER_MS);
        try {
          while (await this.conn.read(this.buf) !== null) { /* discard */ }
        } finally {
          clearTimeout(deadline);
        }
      } catch { /* closed meanwhile */ }
    }
    this.close();
    freeNow(this.buf);
  }

  close(): void {
    this.ended = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  async fill(): Promise<boolean> {
    if (this.start === this.end) this.start = this.end = this.searched = 0;
    else if (this.end === this.buf.length) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.searched = Math.max(0, this.searched - this.start);
      this.start = 0;
    }
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) {
      this.ended = true;
      return false;
    }
    this.end += n;
    return true;
  }

  async beforeWait(): Promise<void> {
    if (!this.continuePending) return;
    this.continuePending = false;
    await this.write(CONTINUE);
  }

  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    this.writing = true;
    this.ticks = 0;
    try {
      while (off < bytes.length) {
        off += await this.conn.write(bytes.subarray(off));
        this.ticks = 0;
      }
    } finally {
      this.writing = false;
    }
  }

  /** Serves requests until the client leaves, asks to close, or a request cannot be framed. */
  async serve(handler: Handler): Promise<void> {
    for (;;) {
      // Bytes of a pipelined request already here start its head's deadline.
      this.phase = this.start < this.end ? "head" : "idle";
      this.ticks = 0;
      let headLength: number;
      while ((headLength = headEnd(this.buf, this.start, this.end, this.searched)) === -1) {
        this.searched = this.end;
        if (this.end - this.start === this.buf.length) {
          return this.refuse(
            new HeadError(431, "headers_too_large", `the head is over ${MAX_HEAD} bytes`),
          );
        }
        if (!(await this.fill())) return;
        if (this.phase === "idle") {
          this.phase = "head";
          this.ticks = 0;
        }
      }
      this.searched = 0;
      const head = parseHead(this.buf, this.start, headLength);
      if (head instanceof HeadError) return this.refuse(head);
      this.start = headLength;
      this.phase = "busy";
      this.unreadBody = false;
      const body = this.bodyOf(head);
      const url = this.url(head);
      let response = head.method === "GET" ? handler.plainRead?.(url) ?? null : null;
      if (response === null) {
        let request: Request;
        try {
          request = new Request(url, {
            method: head.method,
            headers: head.headers,
            body: body?.stream ?? null,
          });
        } catch (err) {
          // What the Fetch API will not carry: CONNECT, TRACE and TRACK above all.
          const forbidden = FORBIDDEN_METHODS.has(head.method.toUpperCase());
          return this.refuse(
            forbidden
              ? new HeadError(405, "method_not_allowed", String(err))
              : new HeadError(400, "bad_request", String(err)),
          );
        }
        try {
          response = await handler.fetch(request);
        } catch (err) {
          return this.refuse(new HeadError(500, "internal_error", String(err)));
        }
      }
      const framingError = body?.error() ?? null;
      if (framingError !== null) {
        if (response instanceof Response) await response.body?.cancel().catch(() => {});
        return this.refuse(new HeadError(400, "bad_request", framingError.message));
      }
      // A body the handler left unread cannot be told from the next request: close after this.
      const close = !head.keepAlive || this.hooks.stopping() || this.unreadBody ||
        (body !== null && !body.finished());
      this.phase = "write";
      this.ticks = 0;
      this.continuePending = false;
      const keepOpen = await writeAnswer((b) => this.write(b), response, {
        head: head.method === "HEAD",
        copied: this.hooks.copied,
        close,
        http10: head.http10,
      });
      if (!keepOpen) return;
    }
  }

  private bodyOf(head: RequestHead): BodyReader | null {
    if (head.method === "GET" || head.method === "HEAD") {
      // A body these methods cannot carry to the handler: skipped when it is here, else unread.
      if (head.chunked) this.unreadBody = true;
      if (head.contentLength <= 0) return null;
      const here = Math.min(head.contentLength, this.end - this.start);
      this.start += here;
      this.unreadBody = here < head.contentLength;
      return null;
    }
    if (head.chunked) {
      this.continuePending = head.expectContinue;
      return chunkedBody(this);
    }
    if (head.contentLength <= 0) return null;
    this.continuePending = head.expectContinue && this.end - this.start < head.contentLength;
    return lengthBody(this, head.contentLength);
  }

  private url(head: RequestHead): string {
    const host = head.host !== null && HOST.test(head.host) ? head.host : this.hooks.origin;
    return `http://${host}${head.target}`;
  }

  private async refuse(err: HeadError): Promise<void> {
    this.hooks.refused();
    this.phase = "write";
    this.ticks = 0;
    await this.write(errorResponse(err.status, err.code, err.message)).catch(() => {});
  }
}
