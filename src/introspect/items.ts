/**
 * How memcached's introspection output names an item: keys URI-encoded as its logger and crawler
 * print them, and the slab class an item of a given size would live in under memcached's defaults.
 */
import type { Store } from "../store/store.ts";

const HEX = "0123456789ABCDEF";

/** memcached's uriencode: letters, digits and `-._~` stay, every other byte becomes %XX. */
export function uriEncode(key: Uint8Array): string {
  let out = "";
  for (let i = 0; i < key.length; i++) {
    const b = key[i];
    const plain = (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) ||
      b === 45 || b === 46 || b === 95 || b === 126;
    out += plain ? String.fromCharCode(b) : "%" + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/** The key as text, byte for byte (keys are ASCII, but a byte above 127 must survive). */
export function latin1(key: Uint8Array): string {
  return String.fromCharCode.apply(null, key as unknown as number[]);
}

/**
 * memcached's default chunk sizes (-n 48 on a 48-byte header, -f 1.25, 8-byte alignment, up to
 * half of a 1 MB page); the last class holds everything larger, in chunks.
 */
const CHUNK_SIZES: number[] = (() => {
  const sizes: number[] = [];
  const largest = 512 * 1024;
  for (let size = 96; size < largest / 1.25; size = Math.ceil((size * 1.25) / 8) * 8) {
    sizes.push(size);
  }
  sizes.push(largest);
  return sizes;
})();

/** The slab class id (from 1) memcached would store an item of `ntotal` bytes in. */
export function slabClassOf(ntotal: number): number {
  for (let i = 0; i < CHUNK_SIZES.length; i++) if (ntotal <= CHUNK_SIZES[i]) return i + 1;
  return CHUNK_SIZES.length;
}

/** The number of slab classes memcached has under its defaults (ids 1..this). */
export const SLAB_CLASSES = CHUNK_SIZES.length;

/** ITEM_ntotal of a live item. */
export function ntotalOf(store: Store, key: Uint8Array, handle: number): number {
  return store.itemSize(key.length, store.valueOf(handle).length, store.flagsOf(handle));
}
