/** The outcomes every door renders in its own words (text line, binary status, HTTP status). */
export type StoreMode = "set" | "add" | "replace" | "append" | "prepend" | "cas";
export type StoreOutcome =
  | "stored"
  | "not_stored"
  | "exists"
  | "not_found"
  | "too_large"
  | "no_memory";
export type DeleteOutcome = "deleted" | "not_found" | "exists";
export type ArithOutcome = "ok" | "not_found" | "non_numeric" | "exists" | "no_memory";

/** Per-item bits the meta protocol reads and sets. */
export const FETCHED = 1;
export const STALE = 2;
export const WIN_SENT = 4;

/** memcached's per-item header (sizeof(item) on 64-bit) counted in `bytes`, as memcached does. */
export const ITEM_HEADER_BYTES = 48;
export const CAS_BYTES = 8;
/** Client flags are kept in an item only when they are not 0. */
export const FLAGS_BYTES = 4;
export const MAX_KEY_LENGTH = 250;
/** Relative exptimes go up to 30 days; larger values are absolute unix times. */
export const REALTIME_MAXDELTA = 60 * 60 * 24 * 30;

export interface StoreOptions {
  /** `-m`: bytes items may occupy. */
  maxBytes: number;
  /** `-I`: the largest item, header included. */
  itemSizeMax: number;
  /** false with `-M`: refuse stores instead of evicting. */
  evict: boolean;
  /** false with `-C`. */
  casEnabled: boolean;
}

/** What the memory layout (log.ts) is built with. */
export interface LayoutOptions {
  maxBytes: number;
  itemSizeMax: number;
  evict: boolean;
  /** Bytes every item counts besides key, value and flags (memcached's ITEM_ntotal). */
  itemOverhead: number;
}

/** An item's bytes for the layout to write. */
export interface WriteRequest {
  hash: number;
  key: Uint8Array;
  value: Uint8Array;
  flags: number;
  /** The slot being replaced, or -1. */
  old: number;
}

/** True when `key` is a valid memcached key: 1..250 bytes, no spaces or control characters. */
export function isValidKey(key: Uint8Array): boolean {
  const n = key.length;
  if (n === 0 || n > MAX_KEY_LENGTH) return false;
  for (let i = 0; i < n; i++) {
    const b = key[i];
    if (b <= 32 || b === 127) return false;
  }
  return true;
}
