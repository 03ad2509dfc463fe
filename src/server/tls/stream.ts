/**
 * A node:tls socket seen as the Deno.Conn the connection loops read and write: read() into the
 * caller's buffer, write() resolving once the TLS layer has taken the bytes. What arrives before
 * the loop reads is queued up to PAUSE_AT, then reading stops, so a client that sends without
 * reading answers meets TCP backpressure as on a plain connection. Where Deno's native TLS handle
 * can be driven directly (handle.ts), reads and writes go to it without node's stream machinery;
 * otherwise through the socket's `data` events and write().
 */
import type { TLSSocket } from "node:tls";
import { errnoName, NativeTls, WRITTEN } from "./handle.ts";

const PAUSE_AT = 64 * 1024;
/** How long a closed connection's last answers may take to reach the socket before it is cut. */
const LINGER_MS = 2000;

interface PendingRead {
  buf: Uint8Array;
  resolve(n: number | null): void;
  reject(err: unknown): void;
}

/** node's error codes as the Deno errors the loops know as a client going away. */
function denoError(err: unknown): unknown {
  const code = (err as { code?: string }).code;
  if (code === "ECONNRESET") return new Deno.errors.ConnectionReset(String(err));
  if (code === "EPIPE") return new Deno.errors.BrokenPipe(String(err));
  if (code === "ERR_STREAM_DESTROYED" || code === "ERR_STREAM_WRITE_AFTER_END") {
    return new Deno.errors.BadResource(String(err));
  }
  return err;
}

/** A failed native read or write as the error node's socket would have raised. */
function statusError(status: number, what: string): unknown {
  const code = errnoName(status);
  return denoError(Object.assign(new Error(`${what} ${code}`), { code }));
}

export class TlsStream {
  private chunks: Uint8Array[] = [];
  private queued = 0;
  private paused = false;
  private reader: PendingRead | null = null;
  private writes = new Set<(err: unknown) => void>();
  private ended = false;
  private error: unknown = null;
  private closed = false;
  private readonly native: NativeTls | null;
  /** The native write in flight, if one is, and how to settle it. */
  private inflight: Promise<number> | null = null;
  private settle: { n: number; resolve(n: number): void; reject(err: unknown): void } | null = null;

  constructor(
    private readonly socket: TLSSocket,
    readonly remoteAddr: Deno.NetAddr,
    readonly localAddr: Deno.NetAddr,
    /** ssl_wbuf_size: the most handed to TLS per write (the loops write the rest after). */
    private readonly writeMax: number,
  ) {
    this.native = NativeTls.of(socket);
    if (this.native !== null) {
      // What came with the handshake is in the socket's buffer already; the rest comes here.
      for (let c: Uint8Array | null; (c = socket.read()) !== null;) this.arrived(c, false);
      this.native.start({
        data: (borrowed) => this.arrived(borrowed, true),
        end: (status) => this.finish(status === null ? null : statusError(status, "read")),
        written: (status) => this.written(status),
      });
    } else {
      socket.on("data", (chunk: Uint8Array) => this.arrived(chunk, false));
      socket.on("end", () => this.finish(null));
    }
    socket.on("close", () => this.finish(null));
    socket.on("error", (err) => this.finish(err));
  }

  /** A chunk from the socket; a `borrowed` one is copied before it is kept. */
  private arrived(chunk: Uint8Array, borrowed: boolean): void {
    const r = this.reader;
    if (r !== null && this.chunks.length === 0) {
      this.reader = null;
      r.resolve(this.take(chunk, r.buf, borrowed));
      return;
    }
    this.chunks.push(borrowed ? chunk.slice() : chunk);
    this.queued += chunk.length;
    if (this.queued >= PAUSE_AT && !this.paused) {
      this.paused = true;
      if (this.native !== null) this.native.pause();
      else this.socket.pause();
    }
  }

  /** Copies what fits of `chunk` into `buf`, queueing the rest first in line. */
  private take(chunk: Uint8Array, buf: Uint8Array, borrowed = false): number {
    const n = Math.min(chunk.length, buf.length);
    buf.set(n === chunk.length ? chunk : chunk.subarray(0, n));
    if (n < chunk.length) {
      this.chunks.unshift(borrowed ? chunk.slice(n) : chunk.subarray(n));
      this.queued += chunk.length - n;
    }
    return n;
  }

  private finish(err: unknown): void {
    if (err !== null && this.error === null) this.error = denoError(err);
    this.ended = true;
    const r = this.reader;
    this.reader = null;
    if (r !== null) {
      if (this.error !== null && !this.closed) r.reject(this.error);
      else r.resolve(null);
    }
    if (this.socket.destroyed) {
      const gone = this.error ?? new Deno.errors.BadResource("the connection is closed");
      for (const fail of this.writes) fail(gone);
      this.writes.clear();
      const s = this.settle;
      this.settle = null;
      s?.reject(gone);
    }
  }

  read(buf: Uint8Array): Promise<number | null> {
    if (this.closed) return Promise.reject(new Deno.errors.BadResource("the connection is closed"));
    if (this.chunks.length > 0) {
      const chunk = this.chunks.shift()!;
      this.queued -= chunk.length;
      const n = this.take(chunk, buf);
      if (this.paused && this.queued < PAUSE_AT / 2) {
        this.paused = false;
        if (this.native !== null) this.native.resume();
        else this.socket.resume();
      }
      return Promise.resolve(n);
    }
    if (this.error !== null) return Promise.reject(this.error);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => (this.reader = { buf, resolve, reject }));
  }

  write(data: Uint8Array): Promise<number> {
    if (this.closed || this.socket.destroyed) {
      return Promise.reject(this.error ?? new Deno.errors.BadResource("the connection is closed"));
    }
    const part = data.length > this.writeMax ? data.subarray(0, this.writeMax) : data;
    if (this.native !== null) return this.writeNative(this.native, part);
    return new Promise((resolve, reject) => {
      const fail = (err: unknown) => reject(err);
      this.writes.add(fail);
      this.socket.write(part, (err) => {
        if (!this.writes.delete(fail)) return;
        if (err) reject(denoError(err));
        else resolve(part.length);
      });
    });
  }

  /**
   * One write to the native handle: done at once, or when the handle says it is. The handle keeps
   * one write in flight, so a write made meanwhile (a watcher's events) waits for it.
   */
  private writeNative(native: NativeTls, part: Uint8Array): Promise<number> {
    if (this.inflight !== null) {
      return this.inflight.then(() => this.write(part), () => this.write(part));
    }
    const status = native.write(part);
    if (status === WRITTEN) return Promise.resolve(part.length);
    if (status < 0) return Promise.reject(statusError(status, "write"));
    this.inflight = new Promise<number>((resolve, reject) => {
      this.settle = { n: part.length, resolve, reject };
    });
    return this.inflight;
  }

  /** The native write in flight is done (`status` 0) or failed. */
  private written(status: number): void {
    const s = this.settle;
    this.settle = null;
    this.inflight = null;
    if (s === null) return;
    if (status < 0) s.reject(statusError(status, "write"));
    else s.resolve(s.n);
  }

  close(): void {
    if (this.closed) throw new Deno.errors.BadResource("the connection is closed");
    this.closed = true;
    if (this.native === null) this.socket.destroy();
    else this.destroyFlushed(this.native);
    this.finish(null);
  }

  /**
   * Destroys the socket once the answers written to the native handle are on it (destroying drops
   * what it still queues), or after LINGER_MS for a client that does not read them.
   */
  private destroyFlushed(native: NativeTls): void {
    const timer = setTimeout(() => this.socket.destroy(), LINGER_MS);
    Deno.unrefTimer(timer);
    native.flushed(() => {
      clearTimeout(timer);
      this.socket.destroy();
    });
  }

  closeWrite(): Promise<void> {
    this.socket.end();
    return Promise.resolve();
  }

  setNoDelay(noDelay = true): void {
    this.socket.setNoDelay(noDelay);
  }

  setKeepAlive(keepAlive = true): void {
    this.socket.setKeepAlive(keepAlive);
  }

  ref(): void {
    this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }
}
