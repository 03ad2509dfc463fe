/**
 * The counters behind `stats`, `GET /stats` and `GET /metrics`. Field names are memcached's, so
 * every rendering prints them as they are.
 */
export class Counters {
  curr_connections = 0;
  total_connections = 0;
  rejected_connections = 0;
  connection_structures = 0;
  cmd_get = 0;
  cmd_set = 0;
  cmd_flush = 0;
  cmd_touch = 0;
  cmd_meta = 0;
  get_hits = 0;
  get_misses = 0;
  get_expired = 0;
  get_flushed = 0;
  delete_misses = 0;
  delete_hits = 0;
  incr_misses = 0;
  incr_hits = 0;
  decr_misses = 0;
  decr_hits = 0;
  cas_misses = 0;
  cas_hits = 0;
  cas_badval = 0;
  touch_hits = 0;
  touch_misses = 0;
  store_too_large = 0;
  store_no_memory = 0;
  auth_cmds = 0;
  auth_errors = 0;
  bytes_read = 0;
  bytes_written = 0;
  total_items = 0;
  expired_unfetched = 0;
  evicted_unfetched = 0;
  evicted_active = 0;
  evictions = 0;
  reclaimed = 0;
  crawler_reclaimed = 0;
  crawler_items_checked = 0;
  lru_crawler_starts = 0;
  direct_reclaims = 0;
  idle_kicks = 0;
  conn_yields = 0;
  http_requests = 0;
  http_errors = 0;
  /** TLS handshakes that failed, timed out or met plain text (memcached counts SSL_accept's). */
  ssl_handshake_errors = 0;
  /** Full handshakes (not resumed) while ssl_session_cache is on. */
  ssl_new_sessions = 0;

  /** `stats reset`: zero what memcached zeroes (not gauges such as curr_connections). */
  reset(): void {
    const keep = new Set(["curr_connections", "connection_structures"]);
    for (const name of Object.keys(this) as (keyof Counters)[]) {
      if (!keep.has(name)) (this as unknown as Record<string, number>)[name] = 0;
    }
  }
}
