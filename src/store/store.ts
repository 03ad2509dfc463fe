/**
 * The store every door uses: the command rules (cache.ts) over the memory layout (log.ts). The
 * first, simple store is kept in tests/helpers as the oracle this one is tested against.
 */
import type { Cache } from "./cache.ts";
import { FETCHED } from "./types.ts";

export { Cache as Store } from "./cache.ts";

/** Marks a handle as fetched; the doors call it after serving a value. */
export function markFetched(store: Cache, handle: number): number {
  const bits = store.bitsOf(handle);
  store.setBits(handle, bits | FETCHED);
  return bits;
}
