/**
 * A node:tls socket seen as the Deno.Conn the connection loops read and write: read() into the
 * caller's buffer, write() resolving once the TLS layer has taken the bytes. What arrives before
 * the loop reads is queued up to PAUSE_AT, then reading stops, so a client that sends without
 * reading answers meets TCP backpressure as on a plain connection. Where Deno's native TLS handle
 * can be driven directly (handle.ts), reads and writes go to it without node's stream machinery;
 * otherwise through the socket's `data` events and write().
 */
import type { TLSSocket } from "node:tls";
import {
  bytesRead,
  errnoName,
  lastWriteAsync,
  nativeHandle,
  type NativeTls,
  readOffset,
  UV_EOF,
} from "./handle.ts";

const PAUSE_AT = 64 * 1024;

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

  constructor(
    private readonly socket: TLSSocket,
    readonly remoteAddr: Deno.NetAddr,
    readonly localAddr: Deno.NetAddr,
    /** ssl_wbuf_size: the most handed to TLS per write (the loops write the rest after). */
    private readonly writeMax: number,
  ) {
    this.native = nativeHandle(socket);
    if (this.native !== null) {
      // What came with the handshake is in the socket's buffer already; the rest comes here.
      for (let c: Uint8Array | null; (c = socket.read()) !== null;) this.arrived(c);
      this.native.onread = (buf) => this.onread(buf);
      this.native.readStart();
    } else {
      socket.on("data", (chunk: Uint8Array) => this.arrived(chunk));
      socket.on("end", () => this.finish(null));
    }
    socket.on("close", () => this.finish(null));
    socket.on("error", (err) => this.finish(err));
  }

  /** The native handle's read callback: a decrypted chunk, the end, or an error. */
  private onread(buf: ArrayBuffer | Uint8Array | undefined): void {
    const n = bytesRead();
    if (n > 0 && buf !== undefined) {
      const ab = buf instanceof ArrayBuffer ? buf : buf.buffer;
      this.arrived(new Uint8Array(ab, readOffset(), n));
    } else if (n === UV_EOF) {
      this.finish(null);
    } else if (n < 0) {
      this.finish(statusError(n, "read"));
    }
  }

  private arrived(chunk: Uint8Array): void {
    const r = this.reader;
    if (r !== null && this.chunks.length === 0) {
      this.reader = null;
      r.resolve(this.take(chunk, r.buf));
      return;
    }
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= PAUSE_AT && !this.paused) {
      this.paused = true;
      if (this.native !== null) this.native.readStop();
      else this.socket.pause();
    }
  }

  /** Copies what fits of `chunk` into `buf`, queueing the rest first in line. */
  private take(chunk: Uint8Array, buf: Uint8Array): number {
    const n = Math.min(chunk.length, buf.length);
    buf.set(n === chunk.length ? chunk : chunk.subarray(0, n));
    if (n < chunk.length) {
      this.chunks.unshift(chunk.subarray(n));
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
        if (this.native !== null) this.native.readStart();
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

  /** One write to the native handle: done at once (the usual case), or when it completes. */
  private writeNative(native: NativeTls, part: Uint8Array): Promise<number> {
    let done: ((status: number) => void) | null = null;
    // Holds `part` until an async write completes, as node's WriteWrap does.
    const req = { buffer: part, oncomplete: (status: number) => done?.(status) };
    const status = native.writeBuffer(req, part);
    if (status < 0) return Promise.reject(statusError(status, "write"));
    if (!lastWriteAsync()) return Promise.resolve(part.length);
    return new Promise((resolve, reject) => {
      const fail = (err: unknown) => reject(err);
      this.writes.add(fail);
      done = (status) => {
        if (!this.writes.delete(fail)) return;
        if (status < 0) reject(statusError(status, "write"));
        else resolve(part.length);
      };
    });
  }

  close(): void {
    if (this.closed) throw new Deno.errors.BadResource("the connection is closed");
    this.closed = true;
    this.socket.destroy();
    this.finish(null);
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
