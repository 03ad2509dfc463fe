/**
 * The native handles under a node:tls socket (Deno's TLSWrap over its TCPWrap), driven directly:
 * node's Readable and Writable over them cost more CPU per request than the TLS itself (README:
 * Benchmark). The TCP handle reads ciphertext into one buffer per thread and hands it to the TLS
 * handle, which decrypts into another and calls back; writes go to the TLS handle's writeBuffer.
 * Both buffers are only borrowed for the length of a callback: every byte is consumed or copied
 * before it returns, as the handles do with what they are given. These are node's stream_base
 * internals as Deno 2.9 has them (`onread`, `useUserBuffer`, `writeBuffer`, `receive`, the shared
 * `streamBaseState`); where one is missing, `NativeTls.of` returns null and the socket is used as a
 * stream.
 */
import process from "node:process";
import type { TLSSocket } from "node:tls";

interface StreamState {
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

/** What a TCPWrap and a TLSWrap both have (node's LibuvStreamWrap). */
interface StreamHandle {
  onread: (buf?: ArrayBuffer | Uint8Array) => void;
  useUserBuffer(buf: Uint8Array): void;
  readStart(): number;
  readStop(): number;
}

interface TlsHandle extends StreamHandle {
  /** 0 or a negative errno; the shared state then says whether `req` completes later. */
  writeBuffer(req: { oncomplete: ((status: number) => void) | null }, data: Uint8Array): number;
  /** Ciphertext from the TCP handle, decrypted at once (copied in, not kept). */
  receive(data: Uint8Array): void;
  emitEof(): void;
  _parent?: StreamHandle & { unref(): void };
}

/** What a connection hears from its handles. */
export interface NativeSink {
  /** Decrypted bytes, valid only during the call: copy what is kept. */
  data(borrowed: Uint8Array): void;
  /** The end (null) or a failed read, as node's status. */
  end(status: number | null): void;
  /** The write `write()` left pending is done: 0, or a negative errno. */
  written(status: number): void;
}

/** What `write()` says: written at once, or `NativeSink.written` follows (else a negative errno). */
export const WRITTEN = 0;
export const PENDING = 1;

/**
 * The handle takes this much cleartext into TLS in one write (MAX_CLEAR_IN in Deno's tls_wrap.rs)
 * and keeps the rest until the socket drains; a write made before then would drop that rest.
 */
const TAKEN_AT_ONCE = 48 * 1024;
/** Bytes written without waiting to hear that they reached the socket; then a write waits. */
const AHEAD = 64 * 1024;

/** libuv's end of stream, as onread reports it. */
const UV_EOF = -4095;
/** libuv's suggested read size: a TCP read or a decrypted chunk is at most this. */
const READ_SIZE = 64 * 1024;

let state: StreamState | null | undefined;
let cipherBuf: Uint8Array | null = null;
let clearBuf: Uint8Array | null = null;

function streamState(): StreamState | null {
  if (state !== undefined) return state;
  try {
    const b = (process as unknown as { binding(name: string): StreamState }).binding(
      "stream_wrap",
    );
    const ok = b.streamBaseState instanceof Int32Array &&
      Number.isInteger(b.kReadBytesOrError) && Number.isInteger(b.kLastWriteWasAsync);
    state = ok ? b : null;
  } catch {
    state = null;
  }
  return state;
}

function isStreamHandle(h: Partial<StreamHandle> | null | undefined): h is StreamHandle {
  return h != null && typeof h.onread === "function" && typeof h.useUserBuffer === "function" &&
    typeof h.readStart === "function" && typeof h.readStop === "function";
}

/** One connection's native TLS and TCP handles, read and written without node's streams. */
export class NativeTls {
  /**
   * The one write request, reused: the handle calls its `oncomplete` once every write made so far
   * is on the socket (once for several writes when they come faster than the socket drains).
   */
  private readonly req = { oncomplete: (_status: number) => {} };
  /** Bytes handed to the handle since it last said that everything was written. */
  private unacked = 0;
  /** Whether a write waits for `oncomplete` (PENDING was returned). */
  private waiting = false;
  /** Called once everything written is on the socket (a closing connection waits for it). */
  private whenFlushed: (() => void) | null = null;

  private constructor(
    private readonly tls: TlsHandle,
    private readonly tcp: StreamHandle & { unref(): void },
    private readonly st: StreamState,
  ) {}

  /** The socket's handles when every part this class uses is there, else null. */
  static of(socket: TLSSocket): NativeTls | null {
    const st = streamState();
    const tls = (socket as unknown as { _handle?: Partial<TlsHandle> })._handle;
    if (st === null || !isStreamHandle(tls)) return null;
    const t = tls as Partial<TlsHandle>;
    const ok = typeof t.writeBuffer === "function" && typeof t.receive === "function" &&
      typeof t.emitEof === "function" && isStreamHandle(t._parent) &&
      typeof t._parent.unref === "function";
    return ok ? new NativeTls(tls as TlsHandle, t._parent!, st) : null;
  }

  /** From now on what arrives goes to `sink`: ciphertext and cleartext through the shared buffers. */
  start(sink: NativeSink): void {
    const { tls, tcp, st } = this;
    const cipher = cipherBuf ??= new Uint8Array(READ_SIZE);
    const clear = clearBuf ??= new Uint8Array(READ_SIZE);
    const nread = () => st.streamBaseState[st.kReadBytesOrError];
    this.req.oncomplete = (status) => {
      this.unacked = 0;
      const flushed = this.whenFlushed;
      this.whenFlushed = null;
      flushed?.();
      if (this.waiting) {
        this.waiting = false;
        sink.written(status);
      } else if (status < 0) sink.end(status);
    };
    tls.useUserBuffer(clear);
    tls.onread = () => {
      const n = nread();
      if (n > 0) sink.data(clear.subarray(0, n));
      else if (n < 0) sink.end(n === UV_EOF ? null : n);
    };
    // As Deno's own forwarder does (internal_binding/tls_wrap.ts), with the shared buffer.
    tcp.useUserBuffer(cipher);
    tcp.onread = () => {
      const n = nread();
      if (n > 0) tls.receive(cipher.subarray(0, n));
      else if (n < 0) {
        tcp.readStop();
        tcp.unref();
        tls.emitEof();
      }
    };
    // Each handle takes its onread when reading starts: restart the TCP one to take this one.
    tcp.readStop();
    tcp.readStart();
    tls.readStart();
  }

  /** Stops reading from the socket itself (the TLS handle alone would go on reading into memory). */
  pause(): void {
    this.tcp.readStop();
  }

  resume(): void {
    this.tcp.readStart();
  }

  /**
   * Encrypts and writes `data`, which the handle copies in: WRITTEN (the caller may go on), PENDING
   * (the sink hears when every byte is on the socket; nothing may be written before) or a negative
   * errno. A write waits when it is longer than the handle takes at once, or when AHEAD bytes
   * went out since the last wait, so a client that does not read holds at most that much here.
   */
  write(data: Uint8Array): number {
    // The handle ignores an empty write and would never report it.
    if (data.length === 0) return WRITTEN;
    const status = this.tls.writeBuffer(this.req, data);
    if (status < 0) return status;
    if (this.st.streamBaseState[this.st.kLastWriteWasAsync] === 0) return WRITTEN;
    this.unacked += data.length;
    if (data.length <= TAKEN_AT_ONCE && this.unacked <= AHEAD) return WRITTEN;
    this.waiting = true;
    return PENDING;
  }

  /** Calls `then` once every byte written so far is on the socket (at once when it is). */
  flushed(then: () => void): void {
    if (this.unacked === 0 && !this.waiting) then();
    else this.whenFlushed = then;
  }
}

/** node's errno names for the codes a write or read can fail with. */
export function errnoName(status: number): string {
  return status === -32 ? "EPIPE" : status === -104 ? "ECONNRESET" : `errno ${-status}`;
}
