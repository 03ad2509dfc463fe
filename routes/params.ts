/**
 * Reading an HTTP request into store arguments: keys from the raw URL (percent-decoded to bytes),
 * numeric query parameters, entity tags and size-bounded bodies. Pure translation, no cache logic.
 */
import { MAX_U64 } from "../src/bytes.ts";
import { isValidKey } from "../src/store/types.ts";

const MAX_U32 = 0xffffffff;
const INT32_MAX = 0x7fffffff;
const INT32_MIN = -0x80000000;

/** Index where the path of a request URL starts ("http://host:port/path" -> the first "/"). */
function pathStart(url: string): number {
  return url.indexOf("/", url.indexOf(":") + 3);
}

/** The raw (still percent-encoded) path of a request URL, without query or fragment. */
export function rawPath(url: string): string {
  const start = pathStart(url);
  let end = start;
  while (end < url.length) {
    const ch = url.charCodeAt(end);
    if (ch === 63 /* ? */ || ch === 35 /* # */) break;
    end++;
  }
  return url.slice(start, end);
}

/**
 * The key of a `/keys/{key}...` URL as bytes, or null when it is not a valid memcached key
 * (empty, over 250 bytes, spaces or control characters). The segment is percent-decoded byte by
 * byte, so `caf%C3%A9` is the UTF-8 key `café` and `%FF` reaches a non-UTF-8 key. With `scratch`,
 * an ASCII segment that fits is decoded into it: the key is then valid only until the next call.
 */
export function keyFromUrl(url: string, scratch?: Uint8Array): Uint8Array | null {
  // The key is the second segment of the path the router matched: after "/keys/", however
  // "keys" was spelled (the router decodes `/%6Beys/x` to `/keys/x`).
  const start = url.indexOf("/", pathStart(url) + 1) + 1;
  if (start === 0) return null;
  let end = start;
  while (end < url.length) {
    const ch = url.charCodeAt(end);
    if (ch === 47 /* / */ || ch === 63 /* ? */ || ch === 35 /* # */) break;
    end++;
  }
  const key = percentDecode(url.slice(start, end), scratch);
  return isValidKey(key) ? key : null;
}

const encoder = new TextEncoder();

function hexValue(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 65 && ch <= 70) return ch - 55;
  if (ch >= 97 && ch <= 102) return ch - 87;
  return -1;
}

/** Percent-decodes to bytes: `%XX` is one byte, anything else its UTF-8; a stray `%` stays. */
export function percentDecode(raw: string, scratch?: Uint8Array): Uint8Array {
  let bytes: Uint8Array | null = null;
  for (let i = 0; i < raw.length; i++) {
    if (raw.charCodeAt(i) > 127) {
      bytes = encoder.encode(raw);
      break;
    }
  }
  if (bytes === null) {
    // A new Uint8Array costs a backing-store allocation (about 0.3 us); the hot GET passes scratch.
    bytes = scratch !== undefined && raw.length <= scratch.length
      ? scratch.subarray(0, raw.length)
      : new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  }
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 37 && i + 2 < bytes.length) {
      const hi = hexValue(bytes[i + 1]);
      const lo = hexValue(bytes[i + 2]);
      if (hi >= 0 && lo >= 0) {
        bytes[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    bytes[n++] = b;
  }
  return bytes.subarray(0, n);
}

/** Percent-encodes bytes for a URL path segment: unreserved ASCII stays, the rest is `%XX`. */
export function percentEncode(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    const unreserved = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) ||
      b === 45 || b === 46 || b === 95 || b === 126;
    out += unreserved
      ? String.fromCharCode(b)
      : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 text of bytes, or null when they are not valid UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** A key as JSON text: its UTF-8 when valid, else its percent-encoded form. */
export function keyText(key: Uint8Array): string {
  return utf8OrNull(key) ?? percentEncode(key);
}

/**
 * The query parameters of a URL, with raw (undecoded) values; `+` is a plus sign, not a space
 * (keys cannot hold spaces, and form encoders write a plus as `%2B`).
 */
export class Query {
  private readonly values = new Map<string, string[]>();

  constructor(url: string) {
    const q = url.indexOf("?");
    if (q === -1) return;
    let end = url.indexOf("#", q);
    if (end === -1) end = url.length;
    for (const part of url.slice(q + 1, end).split("&")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      const name = decodeText(eq === -1 ? part : part.slice(0, eq));
      const raw = eq === -1 ? "" : part.slice(eq + 1);
      const list = this.values.get(name);
      if (list === undefined) this.values.set(name, [raw]);
      else list.push(raw);
    }
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  /** Throws BadParameter naming every parameter not in `names`, or repeated but not repeatable. */
  check(names: ReadonlySet<string>, repeatable: ReadonlySet<string>): void {
    const unknown = [...this.values.keys()].filter((n) => !names.has(n));
    const repeated = [...this.values].filter(([n, v]) => v.length > 1 && !repeatable.has(n))
      .map(([n]) => n);
    const problems = [];
    if (unknown.length > 0) {
      const takes = names.size === 0 ? "none" : [...names].join(", ");
      problems.push(`unknown query parameter ${unknown.join(", ")} (this route takes ${takes})`);
    }
    if (repeated.length > 0) problems.push(`query parameter ${repeated.join(", ")} given twice`);
    if (problems.length > 0) throw new BadParameter(problems.join("; "));
  }

  /** The decoded text of the first value, or undefined. */
  text(name: string): string | undefined {
    const raw = this.values.get(name)?.[0];
    return raw === undefined ? undefined : decodeText(raw);
  }

  /** Every value of a repeated parameter, percent-decoded to bytes. */
  allBytes(name: string): Uint8Array[] {
    return (this.values.get(name) ?? []).map((raw) => percentDecode(raw));
  }

  bytes(name: string): Uint8Array | undefined {
    const raw = this.values.get(name)?.[0];
    return raw === undefined ? undefined : percentDecode(raw);
  }
}

function decodeText(raw: string): string {
  return new TextDecoder().decode(percentDecode(raw));
}

/** A parameter that failed to parse: the door answers 400 with this message. */
export class BadParameter extends Error {}

/** A request refused for a bound or a deadline: the door answers with this status and code. */
export class Refused extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/**
 * The store exptime a request asks for, or undefined when it names none: `ttl` is seconds from now
 * for any size (negative: already expired), `exptime` is memcached's rule (up to 30 days relative,
 * beyond that a unix time). `now` is the store clock's unix time.
 */
export function expiryOf(param: (name: string) => string | undefined, now: number) {
  const ttl = param("ttl");
  const exptime = param("exptime");
  if (ttl !== undefined && exptime !== undefined) {
    throw new BadParameter("give ttl (seconds from now) or exptime (memcached's rule), not both");
  }
  if (exptime !== undefined) return parseExptime("exptime", exptime);
  if (ttl === undefined) return undefined;
  const seconds = parseExptime("ttl", ttl);
  // An absolute unix time is read as such by the store whatever the size of ttl.
  return seconds === 0 ? 0 : seconds < 0 ? -1 : now + seconds;
}

/** `exptime`, `ttl` and `delay`: a signed 32-bit integer (negative = expired). */
export function parseExptime(name: string, text: string): number {
  if (!/^-?\d{1,10}$/.test(text)) {
    throw new BadParameter(`${name} must be an integer number of seconds`);
  }
  const n = Number(text);
  if (n > INT32_MAX || n < INT32_MIN) {
    throw new BadParameter(`${name} must fit in a signed 32-bit integer`);
  }
  return n;
}

/** `flags`: an unsigned 32-bit integer. */
export function parseFlags(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > MAX_U32) {
    throw new BadParameter("flags must be an unsigned 32-bit integer");
  }
  return Number(text);
}

/** An unsigned 64-bit integer given as decimal text (`by`, `initial`). */
export function parseU64Text(name: string, text: string): bigint {
  if (!/^\d{1,20}$/.test(text) || BigInt(text) > MAX_U64) {
    throw new BadParameter(`${name} must be an unsigned 64-bit integer`);
  }
  return BigInt(text);
}

/** A non-negative integer no larger than `max` (`limit`). */
export function parseCount(name: string, text: string, max: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new BadParameter(`${name} must be an integer from 1 to ${max}`);
  }
  return Number(text);
}

/** The ETag of a CAS value: a quoted decimal. */
export function etag(cas: bigint): string {
  return `"${cas}"`;
}

/**
 * An `If-Match` value: "*" (the item must exist) or one entity tag, read as a CAS. Weak (`W/"42"`)
 * and unquoted (`42`) forms are accepted; a list of tags cannot map onto a single CAS and is refused.
 */
export function parseIfMatch(header: string): bigint | "*" {
  let v = header.trim();
  if (v === "*") return "*";
  if (v.startsWith("W/")) v = v.slice(2);
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
  if (!/^\d{1,20}$/.test(v) || BigInt(v) > MAX_U64) {
    throw new BadParameter(`If-Match must be "*" or one ETag from this server, got ${header}`);
  }
  return BigInt(v);
}

/** A number for JSON: a number while exact, else its decimal string. */
export function jsonU64(n: bigint): number | string {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
}

/** Base64 of bytes (values in the JSON form of a read). */
export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(
      null,
      bytes.subarray(i, i + 0x8000) as unknown as number[],
    );
  }
  return btoa(binary);
}

/** Base64url without padding (list cursors). */
export function base64url(bytes: Uint8Array): string {
  return base64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
