/**
 * Base64 for meta protocol keys (the `b` flag), with memcached's decoder rules: bytes outside the
 * alphabet are skipped, the remaining count must be a non-zero multiple of four, and decoding
 * stops after the first block that holds padding.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const INVALID = 0x80;
const EQUALS = 61;

const DECODE = new Uint8Array(256).fill(INVALID);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;
DECODE[EQUALS] = 0;

const ENCODE = new Uint8Array(64);
for (let i = 0; i < 64; i++) ENCODE[i] = ALPHABET.charCodeAt(i);

/** Decodes src[s, e); null where memcached's decoder fails. */
export function base64Decode(src: Uint8Array, s: number, e: number): Uint8Array | null {
  let count = 0;
  for (let i = s; i < e; i++) if (DECODE[src[i]] !== INVALID) count++;
  if (count === 0 || count % 4 !== 0) return null;
  const out = new Uint8Array((count / 4) * 3);
  let pos = 0;
  let n = 0;
  let pad = 0;
  const block = [0, 0, 0, 0];
  for (let i = s; i < e; i++) {
    const v = DECODE[src[i]];
    if (v === INVALID) continue;
    if (src[i] === EQUALS) pad++;
    block[n++] = v;
    if (n < 4) continue;
    out[pos++] = ((block[0] << 2) | (block[1] >> 4)) & 0xff;
    out[pos++] = ((block[1] << 4) | (block[2] >> 2)) & 0xff;
    out[pos++] = ((block[2] << 6) | block[3]) & 0xff;
    n = 0;
    if (pad > 0) {
      if (pad > 2) return null;
      pos -= pad;
      break;
    }
  }
  return out.subarray(0, pos);
}

/** Length of the base64 text for `n` bytes. */
export function base64Length(n: number): number {
  return Math.ceil(n / 3) * 4;
}

/** Writes the padded base64 text of `data` into `out` at `at`; returns the offset after it. */
export function base64EncodeInto(data: Uint8Array, out: Uint8Array, at: number): number {
  let p = at;
  let i = 0;
  for (; i + 3 <= data.length; i += 3) {
    const a = data[i], b = data[i + 1], c = data[i + 2];
    out[p++] = ENCODE[a >> 2];
    out[p++] = ENCODE[((a & 3) << 4) | (b >> 4)];
    out[p++] = ENCODE[((b & 15) << 2) | (c >> 6)];
    out[p++] = ENCODE[c & 63];
  }
  const rest = data.length - i;
  if (rest > 0) {
    const a = data[i];
    const b = rest === 2 ? data[i + 1] : 0;
    out[p++] = ENCODE[a >> 2];
    out[p++] = ENCODE[((a & 3) << 4) | (b >> 4)];
    out[p++] = rest === 2 ? ENCODE[(b & 15) << 2] : EQUALS;
    out[p++] = EQUALS;
  }
  return p;
}
