/**
 * Number parsing on request bytes with the acceptance rules of memcached's safe_strto* helpers
 * (C strtol/strtoul followed by a check that the whole token was used).
 */
import { MAX_U64 } from "../bytes.ts";

/** Parses sign and digits of buf[s..e); null when it is not a whole decimal number. */
function scan(buf: Uint8Array, s: number, e: number): { negative: boolean; value: bigint } | null {
  let i = s;
  let negative = false;
  if (i < e && (buf[i] === 43 || buf[i] === 45)) {
    negative = buf[i] === 45;
    i++;
  }
  if (i >= e) return null;
  let small = 0;
  let big: bigint | null = null;
  const digitsStart = i;
  for (; i < e; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) break;
    if (big === null) {
      small = small * 10 + d;
      if (i - digitsStart >= 14) big = BigInt(small);
    } else {
      big = big * 10n + BigInt(d);
    }
  }
  if (i === digitsStart) return null;
  // strtol stops at the first non-digit; memcached accepts only whitespace there.
  if (i < e && !isSpace(buf[i])) return null;
  return { negative, value: big ?? BigInt(small) };
}

function isSpace(b: number): boolean {
  return b === 32 || (b >= 9 && b <= 13);
}

/** Fast path for short unsigned decimals: returns -1 when the token needs the careful parser. */
function quickUint(buf: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 0 || n > 9) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** safe_strtoul into uint32: negative numbers refused, larger values truncated to 32 bits. */
export function parseU32(buf: Uint8Array, s: number, e: number): number | null {
  const q = quickUint(buf, s, e);
  if (q !== -1) return q;
  const r = scan(buf, s, e);
  if (r === null) return null;
  if (r.value > MAX_U64) return null;
  if (r.negative && r.value !== 0n) return null;
  return Number(r.value & 0xffffffffn);
}

/** safe_strtol as memcached 1.6.18 uses it: any 64-bit value, then truncated to int32. */
export function parseI32(buf: Uint8Array, s: number, e: number): number | null {
  const q = quickUint(buf, s, e);
  if (q !== -1) return q;
  const r = scan(buf, s, e);
  if (r === null) return null;
  const v = r.negative ? -r.value : r.value;
  if (v >= 1n << 63n || v < -(1n << 63n)) return null;
  return Number(BigInt.asIntN(32, v));
}

/** safe_strtoull: an unsigned 64-bit number; negative numbers refused. */
export function parseU64(buf: Uint8Array, s: number, e: number): bigint | null {
  const q = quickUint(buf, s, e);
  if (q !== -1) return BigInt(q);
  const r = scan(buf, s, e);
  if (r === null || r.value > MAX_U64) return null;
  if (r.negative && r.value !== 0n) return null;
  return r.value;
}
