/**
 * The eviction policy of the log (log.ts), and its numbers: S3-FIFO over the log, made size-aware.
 *
 * - A new key is written to the small queue (about a tenth of -m). A key the ghost table remembers
 *   being evicted from there unread goes to the main queue at once, if it is small.
 * - Eviction walks a queue's oldest records. Reads are credit, and staying costs rent: one read per
 *   started 4 KB of key and value. In the small queue an item read since it was written moves to
 *   the main queue (one of 4 KB or more needs two reads, else gets another round in the small
 *   queue), any other is evicted and remembered by the ghost table. In the main queue an
 *   item that pays its rent is moved to the head, any other is evicted. Dead records (overwritten,
 *   deleted, expired) are skipped or reclaimed. A segment the walk has passed is free for any size.
 *
 * So one-hit wonders leave after a short stay, and memory goes to the items with the most reads
 * per byte: what makes the hit ratio. There are no size classes, so a store never evicts items of
 * other sizes beyond the bytes it needs.
 */
export const SMALL = 0;
export const MAIN = 1;
export const SMALL_SHARE = 0.1;
/** Reads an item pays per pass: one per started 2^RENT_SHIFT bytes. */
export const RENT_SHIFT = 12;
/** Credit an item may keep after paying, in passes' rent. */
export const CREDIT_MAX = 3;
/** The most reads the small queue asks of an item before it moves to the main one. */
export const SMALL_RENT_MAX = 2;
/** Only items below this size skip the small queue when the ghost table remembers them. */
export const GHOST_ADMIT_BYTES = 1 << RENT_SHIFT;
/**
 * Segments the log may use, as a share of -m: records are smaller than the bytes memcached counts
 * for them (no 48-byte header, no CAS), so less than -m holds what memcached's slab pages hold.
 */
const ARENA_SHARE = 0.82;
/** Segments kept back so a walk can always move the items it keeps. */
export const RESERVE = 2;
/** Enough for every open head, the reserve and something to walk. */
const MIN_SEGMENTS = 8;
/** Records at least this share of a segment go to a head of their own, so they waste less. */
export const BIG_SHARE = 8;
const MAX_INITIAL_SLOTS = 1 << 20;

/** Segment budget for a limit, the walk's reserve included. */
export function segmentBudget(maxBytes: number, segmentSize: number): number {
  const segs = Math.ceil((maxBytes * ARENA_SHARE) / segmentSize) + RESERVE;
  return Math.max(MIN_SEGMENTS, segs);
}

/** One slot per KiB of -m to start with: the tables double as items come. */
export function initialSlots(maxBytes: number): number {
  return Math.min(MAX_INITIAL_SLOTS, Math.max(1024, Math.floor(maxBytes / 1024)));
}

/** A ghost table for the items -m may hold. */
export function ghostEntries(maxBytes: number): number {
  return Math.min(MAX_INITIAL_SLOTS, Math.floor(maxBytes / 256));
}
