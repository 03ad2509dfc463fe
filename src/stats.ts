/**
 * The counters behind `stats`, `GET /stats` and `GET /metrics`. Field names are memcached's, so
 * every rendering prints them as they are.
 *
 * Each worker thread counts in its own row of a shared table (no cache line bounces between
 * threads per request); `CounterTable.totals` sums the rows when someone reads them.
 */
export const COUNTER_NAMES = [
  "curr_connections",
  "total_connections",
  "rejected_connections",
  "connection_structures",
  "cmd_get",
  "cmd_set",
  "cmd_flush",
  "cmd_touch",
  "cmd_meta",
  "get_hits",
  "get_misses",
  "get_expired",
  "get_flushed",
  "delete_misses",
  "delete_hits",
  "incr_misses",
  "incr_hits",
  "decr_misses",
  "decr_hits",
  "cas_misses",
  "cas_hits",
  "cas_badval",
  "touch_hits",
  "touch_misses",
  "store_too_large",
  "store_no_memory",
  "auth_cmds",
  "auth_errors",
  "bytes_read",
  "bytes_written",
  "total_items",
  "expired_unfetched",
  "evicted_unfetched",
  "evicted_active",
  "evictions",
  "reclaimed",
  "crawler_reclaimed",
  "crawler_items_checked",
  "lru_crawler_starts",
  "direct_reclaims",
  "idle_kicks",
  "conn_yields",
  "http_requests",
  "http_errors",
  // TLS handshakes that failed, timed out or met plain text (memcached counts SSL_accept's).
  "ssl_handshake_errors",
  // Full handshakes (not resumed) while ssl_session_cache is on.
  "ssl_new_sessions",
  // Lines given to watchers, and lines a watcher too far behind lost.
  "log_watcher_sent",
  "log_watcher_skipped",
] as const;
export type CounterName = typeof COUNTER_NAMES[number];
/** Gauges `stats reset` leaves alone, as memcached does. */
const KEPT_BY_RESET: ReadonlySet<CounterName> = new Set([
  "curr_connections",
  "connection_structures",
]);

/** One row of counters: a field per name, kept in a Float64Array cell. */
export interface Counters extends Record<CounterName, number> {
  /** `stats reset`: zero what memcached zeroes (not gauges such as curr_connections). */
  reset(): void;
}

class CounterRow {
  constructor(readonly cells: Float64Array<ArrayBufferLike>) {}

  reset(): void {
    COUNTER_NAMES.forEach((name, i) => {
      if (!KEPT_BY_RESET.has(name)) this.cells[i] = 0;
    });
  }
}
COUNTER_NAMES.forEach((name, i) => {
  Object.defineProperty(CounterRow.prototype, name, {
    get(this: CounterRow) {
      return this.cells[i];
    },
    set(this: CounterRow, v: number) {
      this.cells[i] = v;
    },
  });
});

/** A row of counters of its own (a store not shared, tests). */
export function newCounters(
  cells: Float64Array<ArrayBufferLike> = new Float64Array(COUNTER_NAMES.length),
): Counters {
  return new CounterRow(cells) as unknown as Counters;
}

/** Every worker's row, in one SharedArrayBuffer. */
export class CounterTable {
  static readonly MAX_WORKERS = 64;
  static readonly ROW_BYTES = COUNTER_NAMES.length * 8;
  private readonly cells: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Float64Array(buffer);
  }

  /** Worker `worker`'s row: only that worker writes it. */
  row(worker: number): Counters {
    const n = COUNTER_NAMES.length;
    return newCounters(this.cells.subarray(worker * n, (worker + 1) * n));
  }

  /** The sum of every row, as a row of its own (a snapshot). */
  totals(): Counters {
    const n = COUNTER_NAMES.length;
    const sum = new Float64Array(n);
    for (let w = 0; w < CounterTable.MAX_WORKERS; w++) {
      for (let i = 0; i < n; i++) sum[i] += this.cells[w * n + i];
    }
    return newCounters(sum);
  }

  /** One counter summed over every row. */
  total(name: CounterName): number {
    const n = COUNTER_NAMES.length;
    let sum = 0;
    for (let i = COUNTER_NAMES.indexOf(name); i < this.cells.length; i += n) sum += this.cells[i];
    return sum;
  }

  /** `stats reset` for every worker. */
  reset(): void {
    for (let w = 0; w < CounterTable.MAX_WORKERS; w++) this.row(w).reset();
  }
}
