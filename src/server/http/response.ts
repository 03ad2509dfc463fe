/**
 * A Response written as HTTP/1.1 bytes. Bodies are sent whole with a Content-Length, except the
 * streaming types (Server-Sent Events, NDJSON), which go out chunk by chunk as they are produced:
 * each chunk waits for the previous write, so a client that does not read holds back the producer.
 */
import { isStreaming, type PlainAnswer } from "../../http_answer.ts";

const encoder = new TextEncoder();

/** Bodies up to this size go out in the same write as the head (one copy, one syscall). */
const JOIN_BELOW = 16 * 1024;

export type Write = (bytes: Uint8Array) => Promise<void>;

export interface ResponseOptions {
  /** The request was HEAD: no body, whatever the response holds. */
  head: boolean;
  /** The connection closes after this response. */
  close: boolean;
  /** The client speaks HTTP/1.0: no chunked coding, a stream ends with the connection. */
  http10: boolean;
  /** Called once a PlainAnswer's body is copied, before it is written. */
  copied?: () => void;
}

/** Writes `answer`; returns false when the connection must close after it (a stream to 1.0). */
export function writeAnswer(
  write: Write,
  answer: Response | PlainAnswer,
  opts: ResponseOptions,
): Promise<boolean> {
  if (answer instanceof Response) return writeResponse(write, answer, opts);
  const bytes = encodePlain(answer, opts);
  opts.copied?.();
  return write(bytes).then(() => !opts.close);
}

/** A PlainAnswer's head and body in one buffer: the body's only copy on its way out. */
function encodePlain(answer: PlainAnswer, opts: ResponseOptions): Uint8Array {
  let head = `HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? ""}\r\n`;
  for (const [name, value] of answer.headers) head += `${name}: ${value}\r\n`;
  if (opts.close) head += "connection: close\r\n";
  else if (opts.http10) head += "connection: keep-alive\r\n";
  const body = opts.head ? EMPTY : answer.body;
  head += `content-length: ${answer.body.length}\r\n\r\n`;
  const out = new Uint8Array(head.length + body.length);
  const { written } = encoder.encodeInto(head, out);
  out.set(body, written);
  return out.subarray(0, written + body.length);
}

const EMPTY = new Uint8Array(0);

async function writeResponse(
  write: Write,
  response: Response,
  opts: ResponseOptions,
): Promise<boolean> {
  const status = response.status;
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\n`;
  let declared: string | null = null;
  // forEach, not for-of: the iterator costs five times as much per response.
  response.headers.forEach((value, name) => {
    if (name === "content-length") declared = value;
    else if (name !== "transfer-encoding" && name !== "connection") head += `${name}: ${value}\r\n`;
  });
  const noBody = opts.head || status === 204 || status === 304 || status < 200;
  // `response.body` makes a stream: only streaming types need one, the rest are read whole.
  const streaming = !noBody && isStreaming(response);
  let keepOpen = !opts.close;
  if (streaming && opts.http10) keepOpen = false;
  if (!keepOpen) head += "connection: close\r\n";
  else if (opts.http10) head += "connection: keep-alive\r\n";

  if (streaming && response.body !== null) {
    const end = opts.http10 ? "\r\n" : "transfer-encoding: chunked\r\n\r\n";
    await writeStream(write, head + end, response.body, opts.http10);
    return keepOpen;
  }
  if (noBody) {
    // HEAD keeps the length GET would send; 204 and 304 carry none.
    const length = opts.head ? declared : null;
    await write(
      encoder.encode(length === null ? `${head}\r\n` : `${head}content-length: ${length}\r\n\r\n`),
    );
    return keepOpen;
  }
  const bytes = await response.bytes();
  const headBytes = encoder.encode(`${head}content-length: ${bytes.length}\r\n\r\n`);
  if (bytes.length < JOIN_BELOW) {
    const all = new Uint8Array(headBytes.length + bytes.length);
    all.set(headBytes);
    all.set(bytes, headBytes.length);
    await write(all);
  } else {
    await write(headBytes);
    await write(bytes);
  }
  return keepOpen;
}

async function writeStream(
  write: Write,
  head: string,
  body: ReadableStream<Uint8Array>,
  raw: boolean,
): Promise<void> {
  const reader = body.getReader();
  try {
    await write(encoder.encode(head));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      if (raw) {
        await write(value);
        continue;
      }
      const size = encoder.encode(`${value.length.toString(16)}\r\n`);
      const chunk = new Uint8Array(size.length + value.length + 2);
      chunk.set(size);
      chunk.set(value, size.length);
      chunk.set(CRLF, size.length + value.length);
      await write(chunk);
    }
    if (!raw) await write(LAST_CHUNK);
  } catch (err) {
    await reader.cancel(err).catch(() => {});
    throw err;
  }
}

const CRLF = encoder.encode("\r\n");
const LAST_CHUNK = encoder.encode("0\r\n\r\n");

/** A JSON error written by the server itself (before or instead of the app), then the end. */
export function errorResponse(status: number, error: string, message: string): Uint8Array {
  const body = JSON.stringify({ error, message });
  return encoder.encode(
    `HTTP/1.1 ${status} ${REASONS[status] ?? ""}\r\ncontent-type: application/json\r\n` +
      `connection: close\r\ncontent-length: ${encoder.encode(body).length}\r\n\r\n${body}`,
  );
}

export const CONTINUE = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n");

const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  422: "Unprocessable Content",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
  507: "Insufficient Storage",
};
