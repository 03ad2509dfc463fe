/** Byte-level helpers every door shares: protocol text is ASCII, compared and written without strings. */

export const SP = 32;
export const CR = 13;
export const LF = 10;
/** The largest unsigned 64-bit number (CAS uniques, incr/decr deltas and results). */
export const MAX_U64 = (1n << 64n) - 1n;

/** True when bytes[at, at + word.length) spell `word` (ASCII); the caller checks the length. */
export function bytesEqualAscii(bytes: Uint8Array, at: number, word: string): boolean {
  for (let i = 0; i < word.length; i++) if (bytes[at + i] !== word.charCodeAt(i)) return false;
  return true;
}

/** The bytes of an ASCII string (digits, protocol words), without a TextEncoder. */
export function encodeAscii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * Gives a buffer's memory back now rather than at the next garbage collection, which an idle
 * server may not run for minutes: detaching the ArrayBuffer frees its backing store. Only for a
 * whole buffer nothing reads again (views of it read as empty afterwards).
 */
export function freeNow(bytes: Uint8Array): void {
  const buffer = bytes.buffer as ArrayBuffer;
  // A view of part of a larger buffer leaves it alone: others may still read the rest.
  if (bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return;
  try {
    buffer.transfer(0);
  } catch { /* already detached, or not transferable */ }
}
