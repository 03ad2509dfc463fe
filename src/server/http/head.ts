/**
 * The head of an HTTP/1.x request (request line and header fields, RFC 9112), parsed from bytes.
 * Framing is strict, because a body boundary read differently here and in a proxy in front is a
 * smuggled request: Content-Length with Transfer-Encoding, differing lengths, a coding other than
 * chunked, folded lines and bare LFs are refused rather than guessed at.
 */

/** At most this many header fields, as hyper allows (431 beyond). */
const MAX_HEADERS = 100;

export interface RequestHead {
  method: string;
  /** The request target as sent: origin-form, a path and an optional query. */
  target: string;
  headers: [string, string][];
  host: string | null;
  /** The body's length, or -1 when there is none or it is chunked. */
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  expectContinue: boolean;
  http10: boolean;
}

/** A head that cannot be served: the status and message of the answer, then the connection ends. */
export class HeadError {
  constructor(readonly status: number, readonly code: string, readonly message: string) {}
}

const CR = 13;
const LF = 10;

/**
 * Where the head in buf[start, end) ends (after its empty line), or -1 while it is incomplete.
 * `from` (at least `start`) skips bytes already searched, so a head that arrives a byte at a time
 * is not searched again from its start on every byte.
 */
export function headEnd(buf: Uint8Array, start: number, end: number, from = start): number {
  const view = buf.subarray(0, end);
  for (let i = view.indexOf(LF, Math.max(start, from - 3)); i !== -1; i = view.indexOf(LF, i + 1)) {
    if (i + 2 < end && buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
    if (i + 1 < end && buf[i + 1] === LF) return i + 2; // a bare LF pair, refused by parseHead
  }
  return -1;
}

const decoder = new TextDecoder();

/** Parses buf[start, end), a whole head as found by headEnd. */
export function parseHead(buf: Uint8Array, start: number, end: number): RequestHead | HeadError {
  let ascii = true;
  for (let i = start; i < end; i++) {
    const b = buf[i];
    if (b >= 0x80) ascii = false;
    else if (b < 0x20 && b !== 9 && b !== CR && b !== LF) return bad("a control byte in the head");
    else if (b === 0x7f) return bad("a control byte in the head");
  }
  // Header values may hold obs-text, which the Fetch API keeps as Latin-1 characters.
  const text = ascii ? decoder.decode(buf.subarray(start, end)) : latin1(buf, start, end);
  let lineEnd = text.indexOf("\r\n");
  if (lineEnd === -1) return bad("the request line ends in a bare LF");
  const line = text.slice(0, lineEnd);
  const sp1 = line.indexOf(" ");
  const sp2 = line.indexOf(" ", sp1 + 1);
  if (sp1 <= 0 || sp2 <= sp1 + 1 || line.indexOf(" ", sp2 + 1) !== -1) {
    return bad("the request line is not METHOD TARGET VERSION");
  }
  const method = line.slice(0, sp1);
  let target = line.slice(sp1 + 1, sp2);
  const version = line.slice(sp2 + 1);
  if (!TOKEN.test(method)) return bad("the method is not a token");
  // The absolute form (as a proxy sends it) names the host itself, which then wins over Host.
  let authority: string | null = null;
  const scheme = ABSOLUTE.exec(target);
  if (scheme !== null) {
    const slash = target.indexOf("/", scheme[0].length);
    authority = target.slice(scheme[0].length, slash === -1 ? undefined : slash);
    target = slash === -1 ? "/" : target.slice(slash);
  }
  if (target.charCodeAt(0) !== 47 /* / */ || !TARGET.test(target)) {
    return bad("the request target is not a path");
  }
  let keepAlive: boolean;
  if (version === "HTTP/1.1") keepAlive = true;
  else if (version === "HTTP/1.0") keepAlive = false;
  else if (VERSION.test(version)) {
    return new HeadError(
      505,
      "http_version_not_supported",
      "only HTTP/1.0 and HTTP/1.1 are spoken",
    );
  } else return bad("the request line does not end in an HTTP version");

  const headers: [string, string][] = [];
  let host: string | null = null;
  let contentLength = -1;
  let transferEncoding: string | null = null;
  let expectContinue = false;
  let connection: string | null = null;
  for (let at = lineEnd + 2; at < text.length - 2; at = lineEnd + 2) {
    lineEnd = text.indexOf("\r\n", at);
    if (lineEnd === -1) return bad("a header line ends in a bare LF");
    const colon = text.indexOf(":", at);
    if (colon === -1 || colon > lineEnd) return bad("a header line has no colon");
    const name = text.slice(at, colon);
    if (!TOKEN.test(name)) return bad("a header name is not a token (or a folded line)");
    const raw = text.slice(colon + 1, lineEnd);
    if (raw.includes("\n")) return bad("a header line ends in a bare LF");
    const value = raw.trim();
    if (headers.length === MAX_HEADERS) {
      return new HeadError(431, "headers_too_large", `more than ${MAX_HEADERS} header fields`);
    }
    headers.push([name, value]);
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === "host") {
          if (host !== null) return bad("more than one Host header");
          host = value;
        }
        break;
      case 6:
        if (name.toLowerCase() === "expect") {
          if (value.toLowerCase() !== "100-continue") {
            return new HeadError(417, "expectation_failed", "only Expect: 100-continue is met");
          }
          expectContinue = true;
        }
        break;
      case 10:
        if (name.toLowerCase() === "connection") {
          connection = connection === null ? value : `${connection},${value}`;
        }
        break;
      case 14:
        if (name.toLowerCase() === "content-length") {
          if (!DIGITS.test(value) || value.length > 15) {
            return bad("Content-Length is not a number");
          }
          const n = Number(value);
          if (contentLength !== -1 && contentLength !== n) return bad("two Content-Lengths differ");
          contentLength = n;
        }
        break;
      case 17:
        if (name.toLowerCase() === "transfer-encoding") {
          transferEncoding = transferEncoding === null ? value : `${transferEncoding},${value}`;
        }
        break;
    }
  }
  let chunked = false;
  if (transferEncoding !== null) {
    if (contentLength !== -1) return bad("both Content-Length and Transfer-Encoding");
    if (version === "HTTP/1.0") return bad("Transfer-Encoding in HTTP/1.0");
    if (transferEncoding.toLowerCase() !== "chunked") {
      return new HeadError(501, "not_implemented", "only the chunked transfer coding is spoken");
    }
    chunked = true;
  }
  if (connection !== null) {
    for (const option of connection.toLowerCase().split(",")) {
      const o = option.trim();
      if (o === "close") keepAlive = false;
      else if (o === "keep-alive" && version === "HTTP/1.0") keepAlive = true;
    }
  }
  return {
    method,
    target,
    headers,
    host: authority ?? host,
    contentLength,
    chunked,
    keepAlive,
    expectContinue,
    http10: version === "HTTP/1.0",
  };
}

const ABSOLUTE = /^https?:\/\//i;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TARGET = /^[\x21-\x7e]+$/;
const VERSION = /^HTTP\/\d\.\d$/;
const DIGITS = /^\d+$/;

function bad(message: string): HeadError {
  return new HeadError(400, "bad_request", message);
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  let text = "";
  for (let i = start; i < end; i += 4096) {
    text += String.fromCharCode(...buf.subarray(i, Math.min(end, i + 4096)));
  }
  return text;
}
