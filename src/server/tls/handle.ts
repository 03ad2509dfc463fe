/**
 * The native TLS handle under a node:tls socket (Deno's TLSWrap), reached directly: its reads
 * come to one callback and writes go straight to it, past node's Readable and Writable, which
 * cost more CPU per request than the TLS itself (README: Benchmark). These are node's
 * stream_base internals (the handle's `onread`, `writeBuffer`, the shared `streamBaseState`), as
 * Deno 2.9 has them; where one is missing, `nativeHandle` returns null and the socket is used as
 * a stream.
 */
import process from "node:process";
import type { TLSSocket } from "node:tls";

/** What a write request is given back: `oncomplete(status)` once an async write is done. */
export interface WriteRequest {
  oncomplete(status: number): void;
}

/** The handle's methods this server calls. */
export interface NativeTls {
  /** Called with each decrypted chunk's buffer; `bytesRead()` says how much of it (or EOF). */
  onread: (buf: ArrayBuffer | Uint8Array | undefined) => void;
  /** 0 or a negative errno; `lastWriteAsync()` then says whether `req` will be completed. */
  writeBuffer(req: WriteRequest, data: Uint8Array): number;
  readStart(): number;
  readStop(): number;
}

interface StreamState {
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  kLastWriteWasAsync: number;
}

/** libuv's end of stream, as onread reports it. */
export const UV_EOF = -4095;

let state: StreamState | null | undefined;

function streamState(): StreamState | null {
  if (state !== undefined) return state;
  try {
    const b = (process as unknown as { binding(name: string): StreamState }).binding(
      "stream_wrap",
    );
    const ok = b.streamBaseState instanceof Int32Array &&
      [b.kReadBytesOrError, b.kArrayBufferOffset, b.kLastWriteWasAsync].every(Number.isInteger);
    state = ok ? b : null;
  } catch {
    state = null;
  }
  return state;
}

/** Bytes in the buffer onread was just given, or a negative errno (UV_EOF at the end). */
export function bytesRead(): number {
  return state!.streamBaseState[state!.kReadBytesOrError];
}

/** Where in the buffer onread was just given the bytes start. */
export function readOffset(): number {
  return state!.streamBaseState[state!.kArrayBufferOffset];
}

/** Whether the last writeBuffer was queued (its request completes later) rather than written. */
export function lastWriteAsync(): boolean {
  return state!.streamBaseState[state!.kLastWriteWasAsync] !== 0;
}

/** The socket's native TLS handle when every part this module uses is there, else null. */
export function nativeHandle(socket: TLSSocket): NativeTls | null {
  if (streamState() === null) return null;
  const h = (socket as unknown as { _handle?: Partial<NativeTls> })._handle;
  if (h == null) return null;
  const methods = [h.onread, h.writeBuffer, h.readStart, h.readStop];
  return methods.every((m) => typeof m === "function") ? h as NativeTls : null;
}

/** node's errno names for the codes a write or read can fail with. */
export function errnoName(status: number): string {
  return status === -32 ? "EPIPE" : status === -104 ? "ECONNRESET" : `errno ${-status}`;
}
