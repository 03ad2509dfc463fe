/**
 * The store every door uses. Its layout lives in compact.ts (item bytes in arena slabs, typed
 * arrays for the index and the LRU); the first, simple store is kept in tests/helpers as the
 * oracle the compact one is tested against.
 */
import { CompactStore } from "./compact.ts";
import { FETCHED } from "./types.ts";

export { CompactStore as Store, parseDecimal } from "./compact.ts";

/** Marks a handle as fetched; the doors call it after serving a value. */
export function markFetched(store: CompactStore, handle: number): number {
  const bits = store.bitsOf(handle);
  store.setBits(handle, bits | FETCHED);
  return bits;
}
