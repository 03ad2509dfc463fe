/**
 * The flag tokens of a meta command (mg, ms, md, ma), read with memcached 1.6.18's rules: each
 * token's first byte names the flag, a flag may appear once, numeric arguments follow the letter.
 * A bad argument is remembered and parsing goes on (a later error's message wins); a duplicate or
 * unknown flag stops at once.
 */
import { base64Decode } from "./base64.ts";
import { parseI32, parseU32, parseU64 } from "../../numbers.ts";
import { MAX_KEY_LENGTH } from "../../../store/types.ts";
import { MAX_META_TOKENS } from "./output.ts";
import type { CommandLine } from "../line.ts";

export const ERR_FORMAT = "CLIENT_ERROR bad command line format";

/**
 * The checks mg, md and ma share before their flags are read (memcached words the too-many-flags
 * error differently per command). Returns false when it has answered.
 */
export function precheck(line: CommandLine, tooManyFlags: string): boolean {
  const out = line.out;
  if (line.ntok < 2) {
    out.line("ERROR");
    return false;
  }
  if (line.tokenLength(1) > MAX_KEY_LENGTH) {
    out.line(ERR_FORMAT);
    return false;
  }
  if (line.ntok >= MAX_META_TOKENS) {
    out.line(tooManyFlags);
    return false;
  }
  return true;
}
const ERR_DUPLICATE = "CLIENT_ERROR duplicate flag";
const ERR_INVALID = "CLIENT_ERROR invalid flag";
const ERR_TOKEN = "CLIENT_ERROR bad token in command line format";
const ERR_KEY = "CLIENT_ERROR error decoding key";

/** First bytes of the flags memcached 1.6.18 knows; every other byte is an invalid flag. */
const KNOWN = new Uint8Array(128);
for (const c of "bNTRlOPLkstcfvhuqFCMJDI") KNOWN[c.charCodeAt(0)] = 1;

export class MetaFlags {
  /** The message of the first fatal error or of the last argument error; null when none. */
  error: string | null = null;
  /** The key, base64-decoded when `b` was given. */
  key: Uint8Array = new Uint8Array(0);
  keyBinary = false;
  /** u: no LRU bump, no fetched mark. */
  noUpdate = false;
  /** N, T, R, l, h: memcached locks the item and bumps it after answering. */
  locked = false;
  /** v */
  value = false;
  /** q */
  quiet = false;
  /** N(ttl) */
  vivify = false;
  vivifyTtl = 0;
  /** T(ttl) */
  newTtl = false;
  ttl = 0;
  /** R(ttl) */
  recacheTtl = 0;
  /** I */
  invalidate = false;
  /** F(flags) */
  clientFlags = 0;
  /** C(cas) */
  hasCas = false;
  compareCas = 0n;
  /** M(mode): the mode byte, 0 when absent. */
  mode = 0;
  /** D(delta), J(initial) */
  delta = 1n;
  initial = 0n;
}

/** Parses the tokens of `line` from `first` on (after the key, or after ms's length). */
export function parseMetaFlags(line: CommandLine, first: number): MetaFlags {
  const f = new MetaFlags();
  const b = line.buf;
  const tok = line.tok;
  const seen = new Uint8Array(127);
  let hasError = false;
  f.key = line.tokenBytes(1);
  for (let i = first; i < line.ntok; i++) {
    const s = tok[2 * i];
    const e = tok[2 * i + 1];
    const o = b[s];
    if (o >= 127 || seen[o] !== 0) {
      f.error = ERR_DUPLICATE;
      return f;
    }
    seen[o] = 1;
    if (KNOWN[o] === 0) {
      f.error = ERR_INVALID;
      return f;
    }
    switch (o) {
      case 98: { // b
        const decoded = base64Decode(b, tok[2], tok[3]);
        if (decoded === null) {
          f.error = ERR_KEY;
          hasError = true;
          f.key = new Uint8Array(0);
        } else {
          f.key = decoded;
        }
        f.keyBinary = true;
        break;
      }
      case 78: // N
      case 84: // T
      case 82: { // R
        f.locked = true;
        const t = parseI32(b, s + 1, e);
        if (t === null) {
          f.error = ERR_TOKEN;
          hasError = true;
        } else if (o === 78) {
          f.vivifyTtl = t;
        } else if (o === 84) {
          f.newTtl = true;
          f.ttl = t;
        } else {
          f.recacheTtl = t;
        }
        if (o === 78) f.vivify = true;
        break;
      }
      case 108: // l
      case 104: // h
        f.locked = true;
        break;
      case 118: // v
        f.value = true;
        break;
      case 117: // u
        f.noUpdate = true;
        break;
      case 113: // q
        f.quiet = true;
        break;
      case 70: { // F
        const v = parseU32(b, s + 1, e);
        if (v === null) hasError = true;
        else f.clientFlags = v;
        break;
      }
      case 67: { // C
        const v = parseU64(b, s + 1, e);
        if (v === null) {
          f.error = ERR_TOKEN;
          hasError = true;
        } else {
          f.hasCas = true;
          f.compareCas = v;
        }
        break;
      }
      case 77: // M
        if (e - s !== 2) {
          f.error = "CLIENT_ERROR incorrect length for M token";
          hasError = true;
        } else {
          f.mode = b[s + 1];
        }
        break;
      case 74: { // J
        const v = parseU64(b, s + 1, e);
        if (v === null) {
          f.error = "CLIENT_ERROR invalid numeric initial value";
          hasError = true;
        } else {
          f.initial = v;
        }
        break;
      }
      case 68: { // D
        const v = parseU64(b, s + 1, e);
        if (v === null) {
          f.error = "CLIENT_ERROR invalid numeric delta value";
          hasError = true;
        } else {
          f.delta = v;
        }
        break;
      }
      case 73: // I
        f.invalidate = true;
        break;
      default: // O, P, L, k, s, t, c, f: read later or ignored
        break;
    }
  }
  // An F error sets no message of its own: the generic one is used unless another was set.
  if (hasError && f.error === null) f.error = ERR_FORMAT;
  return f;
}
