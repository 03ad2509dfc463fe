/** Reading `stats` over a memcached connection, and the counters differential tests compare. */
import type { RawClient } from "./client.ts";

/**
 * Counters that move the same way here as in memcached for the same commands. Not listed:
 * reclaimed, expired_unfetched and get_flushed, which depend on when memcached's background LRU
 * maintainer reaches dead items (it unlinks flushed ones soon after flush_all).
 */
export const COMPARED_COUNTERS = [
  "cmd_get",
  "cmd_set",
  "cmd_flush",
  "cmd_touch",
  "cmd_meta",
  "get_hits",
  "get_misses",
  "get_expired",
  "delete_hits",
  "delete_misses",
  "incr_hits",
  "incr_misses",
  "decr_hits",
  "decr_misses",
  "cas_hits",
  "cas_misses",
  "cas_badval",
  "touch_hits",
  "touch_misses",
  "store_too_large",
  "curr_items",
  "total_items",
  "bytes",
];

/** Every `STAT name value` line of `stats [group]`, values as numbers where they are numbers. */
export async function readStats(client: RawClient, group = ""): Promise<Record<string, number>> {
  const text = await client.call(group === "" ? "stats\r\n" : `stats ${group}\r\n`, "END\r\n");
  const values: Record<string, number> = {};
  for (const m of text.matchAll(/^STAT (\S+) (.*)\r$/gm)) values[m[1]] = Number(m[2]);
  return values;
}

/** The compared counters out of a full `stats`. */
export async function readCounters(client: RawClient): Promise<Record<string, number>> {
  const all = await readStats(client);
  const out: Record<string, number> = {};
  for (const name of COMPARED_COUNTERS) out[name] = all[name];
  return out;
}
