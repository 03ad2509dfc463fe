/**
 * memcached's binary protocol on the wire: the 24-byte header, opcodes, status codes and the
 * messages memcached sends with each error status.
 */
import type { Output } from "../output.ts";

export const HEADER_BYTES = 24;
export const REQUEST_MAGIC = 0x80;
export const RESPONSE_MAGIC = 0x81;

export const Op = {
  GET: 0x00,
  SET: 0x01,
  ADD: 0x02,
  REPLACE: 0x03,
  DELETE: 0x04,
  INCREMENT: 0x05,
  DECREMENT: 0x06,
  QUIT: 0x07,
  FLUSH: 0x08,
  GETQ: 0x09,
  NOOP: 0x0a,
  VERSION: 0x0b,
  GETK: 0x0c,
  GETKQ: 0x0d,
  APPEND: 0x0e,
  PREPEND: 0x0f,
  STAT: 0x10,
  SETQ: 0x11,
  ADDQ: 0x12,
  REPLACEQ: 0x13,
  DELETEQ: 0x14,
  INCREMENTQ: 0x15,
  DECREMENTQ: 0x16,
  QUITQ: 0x17,
  FLUSHQ: 0x18,
  APPENDQ: 0x19,
  PREPENDQ: 0x1a,
  TOUCH: 0x1c,
  GAT: 0x1d,
  GATQ: 0x1e,
  SASL_LIST_MECHS: 0x20,
  SASL_AUTH: 0x21,
  SASL_STEP: 0x22,
  GATK: 0x23,
  GATKQ: 0x24,
} as const;

export const Status = {
  OK: 0x00,
  KEY_ENOENT: 0x01,
  KEY_EEXISTS: 0x02,
  E2BIG: 0x03,
  EINVAL: 0x04,
  NOT_STORED: 0x05,
  DELTA_BADVAL: 0x06,
  AUTH_ERROR: 0x20,
  AUTH_CONTINUE: 0x21,
  UNKNOWN_COMMAND: 0x81,
  ENOMEM: 0x82,
} as const;

/** The body memcached sends with an error status when it has no more specific text. */
export function statusMessage(status: number): string {
  switch (status) {
    case Status.KEY_ENOENT:
      return "Not found";
    case Status.KEY_EEXISTS:
      return "Data exists for key.";
    case Status.E2BIG:
      return "Too large.";
    case Status.EINVAL:
      return "Invalid arguments";
    case Status.NOT_STORED:
      return "Not stored.";
    case Status.DELTA_BADVAL:
      return "Non-numeric server-side value for incr or decr";
    case Status.AUTH_ERROR:
      return "Auth failure.";
    case Status.UNKNOWN_COMMAND:
      return "Unknown command";
    case Status.ENOMEM:
      return "Out of memory";
    default:
      return "";
  }
}

/** Offsets of the request header fields. */
export const H = {
  MAGIC: 0,
  OPCODE: 1,
  KEYLEN: 2,
  EXTLEN: 4,
  BODYLEN: 8,
  OPAQUE: 12,
  CAS: 16,
} as const;

export function readU16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

export function readU32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) >>> 0) + ((b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]);
}

export function readU64(b: Uint8Array, p: number): bigint {
  const hi = readU32(b, p);
  const lo = readU32(b, p + 4);
  if (hi === 0) return BigInt(lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 0xff;
  b[p + 2] = (v >>> 8) & 0xff;
  b[p + 3] = v & 0xff;
}

export function writeU64(b: Uint8Array, p: number, v: bigint): void {
  if (v === 0n) {
    b.fill(0, p, p + 8);
    return;
  }
  writeU32(b, p, Number(v >> 32n));
  writeU32(b, p + 4, Number(v & 0xffffffffn));
}

/**
 * Appends a response header echoing the opcode and opaque of the request header at
 * `req[reqAt..]`; the caller appends extras, key and value (bodyLength bytes in all).
 */
export function writeHeader(
  out: Output,
  req: Uint8Array,
  reqAt: number,
  status: number,
  extLength: number,
  keyLength: number,
  bodyLength: number,
  cas: bigint,
): void {
  out.ensure(HEADER_BYTES + bodyLength);
  const b = out.buf;
  const p = out.length;
  b[p] = RESPONSE_MAGIC;
  b[p + 1] = req[reqAt + H.OPCODE];
  b[p + 2] = keyLength >>> 8;
  b[p + 3] = keyLength & 0xff;
  b[p + 4] = extLength;
  b[p + 5] = 0;
  b[p + 6] = status >>> 8;
  b[p + 7] = status & 0xff;
  writeU32(b, p + 8, bodyLength);
  b[p + 12] = req[reqAt + 12];
  b[p + 13] = req[reqAt + 13];
  b[p + 14] = req[reqAt + 14];
  b[p + 15] = req[reqAt + 15];
  writeU64(b, p + 16, cas);
  out.length = p + HEADER_BYTES;
}

/** Appends a 4-byte big-endian number (flags extras, for example). */
export function appendU32(out: Output, v: number): void {
  out.ensure(4);
  writeU32(out.buf, out.length, v);
  out.length += 4;
}

/** Appends an 8-byte big-endian number (the incr/decr result). */
export function appendU64(out: Output, v: bigint): void {
  out.ensure(8);
  writeU64(out.buf, out.length, v);
  out.length += 8;
}
