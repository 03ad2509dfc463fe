/**
 * Request bodies read with bounds: at most `limit` bytes (else null, for a 413), counted in the
 * memory shared by every value still arriving (--max-inflight, else 503), and within the HTTP
 * timeout (else 408). Bytes are counted, not chunks: the body is read into one buffer as it
 * comes, and a body sent in pieces too small to be worth their cost is refused (400).
 */
import { freeNow } from "../src/bytes.ts";
import type { Limits } from "../src/limits.ts";
import { Refused } from "./params.ts";

/** A chunked body starts with this much room and doubles as it grows. */
const FIRST_CHUNKED_SIZE = 16 * 1024;
/** Each read takes at most this much from the connection. */
const SCRATCH_SIZE = 16 * 1024;
/**
 * Every piece of a body costs the runtime about a kilobyte of short-lived objects whatever its
 * size, so a body of one-byte chunks (or one-byte TCP segments) would cost a thousand times its
 * length. Past this many pieces, a body must average MIN_PIECE_BYTES a piece or be refused.
 */
const FREE_PIECES = 4096;
const MIN_PIECE_BYTES = 64;

export async function readBody(
  req: Request,
  limit: number,
  limits: Limits,
  timeoutMs: number,
): Promise<Uint8Array | null> {
  const lengthText = req.headers.get("content-length");
  const length = lengthText === null ? -1 : Number(lengthText);
  if (length > limit) return null;
  if (req.body === null || length === 0) return new Uint8Array(0);
  let held = 0;
  let buf = new Uint8Array(0);
  let done = false;
  const room = (size: number, used: number) => {
    if (!limits.canHold(size - held)) {
      throw new Refused(
        503,
        "out_of_memory",
        `values still arriving already hold ${limits.maxInflightBytes} bytes (--max-inflight)`,
      );
    }
    const next = new Uint8Array(size);
    next.set(buf.subarray(0, used));
    limits.hold(size - held);
    held = size;
    freeNow(buf);
    buf = next;
  };
  // A BYOB reader into one scratch buffer: the default reader allocates a 64 KB chunk per read,
  // which for a body of one-byte chunks cost about 10 KB of memory per byte. (Reading straight
  // into views of `buf` stalls in Deno 2.9 once a view gets small.)
  // Small bodies that arrived whole come as a plain stream, which has no BYOB reader.
  let byob: ReadableStreamBYOBReader | null = null;
  let plain: ReadableStreamDefaultReader<Uint8Array> | null = null;
  try {
    byob = req.body.getReader({ mode: "byob" });
  } catch {
    plain = req.body.getReader();
  }
  let scratch = new Uint8Array(SCRATCH_SIZE);
  const read = async (): Promise<Uint8Array | null> => {
    if (plain !== null) {
      const r = await plain.read();
      return r.done ? null : r.value;
    }
    const r = await byob!.read(scratch);
    if (r.done) return null;
    scratch = new Uint8Array(r.value.buffer as ArrayBuffer); // the read transferred it
    return r.value;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new Refused(408, "timeout", `the request body did not arrive within ${timeoutMs} ms`),
      );
    }, timeoutMs);
  });
  deadline.catch(() => {});
  try {
    room(length >= 0 ? length : Math.min(limit, FIRST_CHUNKED_SIZE), 0);
    let total = 0;
    for (let pieces = 1;; pieces++) {
      const value = await Promise.race([read(), deadline]);
      if (value === null) break;
      if (pieces > FREE_PIECES && total < pieces * MIN_PIECE_BYTES) {
        throw new Refused(
          400,
          "body_pieces_too_small",
          `the body arrives in pieces of under ${MIN_PIECE_BYTES} bytes on average`,
        );
      }
      const after = total + value.length;
      if (after > limit) return null;
      if (after > buf.length) room(Math.min(limit, Math.max(after, buf.length * 2)), total);
      buf.set(value, total);
      total = after;
    }
    done = true;
    return buf.subarray(0, total);
  } finally {
    clearTimeout(timer);
    limits.release(held);
    // A body refused, cut off or left behind by its client is garbage: give its memory back now.
    if (!done) freeNow(buf);
    (byob ?? plain)!.cancel().catch(() => {});
    freeNow(scratch);
  }
}
