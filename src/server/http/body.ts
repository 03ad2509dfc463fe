/**
 * Request bodies read from the connection's buffer as the handler asks for them (nothing is read
 * ahead), by length or in the chunked coding. The handler's own bounds (routes/body.ts) decide how
 * much it takes; what it leaves unread closes the connection after the answer.
 *
 * The streams are byte streams: a reader that brings its own buffer (routes/body.ts) gets the
 * bytes copied straight into it. A copy per read instead left a body's worth of garbage behind
 * every upload, uncounted by --max-inflight: 500 stalled 1 MB uploads took 141 MB.
 */

/** The connection's read buffer: unread bytes are buf[start, end). */
export interface Source {
  buf: Uint8Array;
  start: number;
  end: number;
  /** Reads more into buf (compacting it first when full); false at the end of the stream. */
  fill(): Promise<boolean>;
  /** Called before the first read that must wait for the client (100-continue goes out). */
  beforeWait(): Promise<void>;
}

/** A malformed chunked body: the server answers 400 whatever the handler made of it. */
export class BodyError extends Error {}

const CR = 13;
const LF = 10;
/** A chunk-size line (with extensions) or a trailer section longer than this is refused. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

export interface BodyReader {
  stream: ReadableStream<Uint8Array>;
  /** True once the body's last byte was taken from the connection. */
  finished(): boolean;
  /** The framing error the body hit, if any. */
  error(): BodyError | null;
}

/**
 * Hands up to `n` bytes from the buffer to the reader: into its own buffer when it brought one,
 * else as a copy. Returns how many it took.
 */
function give(controller: ReadableByteStreamController, src: Source, n: number): number {
  const request = controller.byobRequest;
  const view = request?.view;
  if (request && view) {
    const k = Math.min(n, view.byteLength);
    new Uint8Array(view.buffer, view.byteOffset, k).set(src.buf.subarray(src.start, src.start + k));
    src.start += k;
    request.respond(k);
    return k;
  }
  controller.enqueue(src.buf.slice(src.start, src.start + n));
  src.start += n;
  return n;
}

/** Ends the stream, answering a reader that waits with its own buffer. */
function end(controller: ReadableByteStreamController): void {
  controller.close();
  controller.byobRequest?.respond(0);
}

/** A body of `length` bytes, some of which may already be in the buffer. */
export function lengthBody(src: Source, length: number): BodyReader {
  let remaining = length;
  const stream = new ReadableStream({
    type: "bytes",
    async pull(controller) {
      if (src.start === src.end) {
        await src.beforeWait();
        if (!(await src.fill())) {
          controller.error(new Error("the client closed the connection in the body"));
          return;
        }
      }
      remaining -= give(controller, src, Math.min(remaining, src.end - src.start));
      if (remaining === 0) end(controller);
    },
  }, { highWaterMark: 0 });
  return { stream, finished: () => remaining === 0, error: () => null };
}

/** A body in the chunked transfer coding (RFC 9112 §7.1), decoded. */
export function chunkedBody(src: Source): BodyReader {
  let state: "size" | "data" | "data-end" | "trailers" | "done" = "size";
  let chunkLeft = 0;
  let trailerBytes = 0;
  let failure: BodyError | null = null;
  /** The next line's end (its LF) in the buffer, reading more as needed; -1 at the end of input. */
  const line = async (limit: number): Promise<number> => {
    for (;;) {
      const lf = src.buf.indexOf(LF, src.start);
      if (lf !== -1 && lf < src.end) return lf;
      if (src.end - src.start > limit) throw new BodyError("a chunk line is too long");
      await src.beforeWait();
      if (!(await src.fill())) return -1;
    }
  };
  const take = async (controller: ReadableByteStreamController) => {
    for (;;) {
      if (state === "size") {
        const lf = await line(MAX_LINE);
        if (lf === -1) throw new Error("the client closed the connection in the body");
        if (lf === src.start || src.buf[lf - 1] !== CR) {
          throw new BodyError("a chunk line ends in a bare LF");
        }
        let size = 0;
        let i = src.start;
        for (; i < lf - 1; i++) {
          const d = hexDigit(src.buf[i]);
          if (d < 0) break;
          size = size * 16 + d;
          if (size > Number.MAX_SAFE_INTEGER / 16) throw new BodyError("a chunk size is too large");
        }
        const next = src.buf[i];
        if (i === src.start || (i < lf - 1 && next !== 59 /* ; */ && next !== 32 && next !== 9)) {
          throw new BodyError("a chunk size is not hexadecimal");
        }
        src.start = lf + 1;
        if (size === 0) state = "trailers";
        else {
          chunkLeft = size;
          state = "data";
        }
      } else if (state === "data") {
        if (src.start === src.end) {
          await src.beforeWait();
          if (!(await src.fill())) throw new Error("the client closed the connection in the body");
        }
        chunkLeft -= give(controller, src, Math.min(chunkLeft, src.end - src.start));
        if (chunkLeft === 0) state = "data-end";
        return;
      } else if (state === "data-end") {
        while (src.end - src.start < 2) {
          await src.beforeWait();
          if (!(await src.fill())) throw new Error("the client closed the connection in the body");
        }
        if (src.buf[src.start] !== CR || src.buf[src.start + 1] !== LF) {
          throw new BodyError("a chunk does not end in CRLF");
        }
        src.start += 2;
        state = "size";
      } else if (state === "trailers") {
        const lf = await line(MAX_LINE);
        if (lf === -1) throw new Error("the client closed the connection in the body");
        if (lf === src.start || src.buf[lf - 1] !== CR) {
          throw new BodyError("a trailer ends in a bare LF");
        }
        const empty = lf === src.start + 1;
        trailerBytes += lf + 1 - src.start;
        src.start = lf + 1;
        if (trailerBytes > MAX_TRAILERS) throw new BodyError("the trailers are too large");
        if (empty) {
          state = "done";
          end(controller);
          return;
        }
      } else return;
    }
  };
  const stream = new ReadableStream({
    type: "bytes",
    async pull(controller) {
      try {
        await take(controller);
      } catch (err) {
        if (err instanceof BodyError) failure = err;
        controller.error(err);
      }
    },
  }, { highWaterMark: 0 });
  return { stream, finished: () => state === "done", error: () => failure };
}

function hexDigit(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 97 && b <= 102) return b - 87;
  if (b >= 65 && b <= 70) return b - 55;
  return -1;
}
