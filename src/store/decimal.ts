/** Byte helpers of the command rules: CAS halves, concatenation, ASCII digits, incr's parse. */
export const MAX_U64 = (1n << 64n) - 1n;

export function joinCas(hi: number, lo: number): bigint {
  return hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
}
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function encodeAscii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Parses a stored value as memcached's incr does (strtoull on the data, which ends in CRLF):
 * leading whitespace and a sign are allowed, the digits may be followed by whitespace and anything
 * after it ("1 2" is 1), an overflow is refused, and a minus sign only matters when the negated
 * number would read as negative in 64 signed bits ("-0" is 0, "-5" is refused).
 */
export function parseDecimal(value: Uint8Array): bigint | null {
  const n = value.length;
  let i = 0;
  while (i < n && isSpace(value[i])) i++;
  let negative = false;
  if (i < n && (value[i] === 43 || value[i] === 45)) {
    negative = value[i] === 45;
    i++;
  }
  const start = i;
  let small = 0;
  while (i < n && value[i] >= 48 && value[i] <= 57) {
    small = small * 10 + value[i] - 48;
    i++;
  }
  if (i === start || (i < n && !isSpace(value[i]))) return null;
  let v = i - start < 16
    ? BigInt(small)
    : BigInt(String.fromCharCode.apply(null, value.subarray(start, i) as unknown as number[]));
  if (v > MAX_U64) return null;
  if (negative) {
    v = (MAX_U64 + 1n - v) & MAX_U64;
    if (v >= 1n << 63n) return null;
  }
  return v;
}

function isSpace(b: number): boolean {
  return b === 32 || (b >= 9 && b <= 13);
}
