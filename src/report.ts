import { bytesEqualAscii } from "./bytes.ts";
import type { ConnectionInfo, ConnectionRow, ServerContext } from "./context.ts";
import { VERSION } from "./context.ts";
import { RESERVED_DESCRIPTORS } from "./limits.ts";
import { SERVER_NAME, SERVER_VERSION } from "./version.ts";
import { introspection } from "./introspect/introspection.ts";
import { tlsSettings, tlsStats } from "./report_tls.ts";

/** A stat line: memcached's name and its value (numbers stay numbers for JSON). */
export type Stat = [string, number | string];

/**
 * One `stats <group>` as every door answers it: the text command, the binary stat packet (key =
 * group) and `GET /stats/<group>` (or `/stats` for the general group) all look groups up here.
 */
export interface StatsGroup {
  /** "" for plain `stats`. */
  name: string;
  rows(ctx: ServerContext): Stat[];
  /** memcached's binary protocol matches this group by prefix ("settingsX" is settings). */
  binaryPrefix?: boolean;
  /** Not a group memcached's binary protocol knows (it answers not found). */
  textOnly?: boolean;
  /** A command, not a view: HTTP offers it as a POST elsewhere, text answers this line. */
  action?: string;
}

export const STATS_GROUPS: readonly StatsGroup[] = [
  { name: "", rows: generalStats },
  {
    name: "reset",
    rows: (ctx) => {
      ctx.store.resetCounters();
      introspection(ctx).reset();
      return [];
    },
    binaryPrefix: true,
    action: "RESET",
  },
  { name: "settings", rows: settingsStats, binaryPrefix: true },
  { name: "items", rows: itemsStats },
  { name: "slabs", rows: slabsStats },
  // Item size histograms: off until `stats sizes_enable`.
  { name: "sizes", rows: (ctx) => introspection(ctx).sizeRows(ctx.store) },
  { name: "conns", rows: connsStats, textOnly: true },
  // This server's own group: what -e and --persist-log have done (src/persist).
  {
    name: "persistence",
    rows: (ctx) => ctx.persistence?.rows() ?? [["persist_mode", "off"]],
    textOnly: true,
  },
];

/** A group by its exact name (the HTTP door's routes). */
export function statsGroup(name: string): StatsGroup {
  return STATS_GROUPS.find((g) => g.name === name)!;
}

/** The group a door was asked for, by memcached's matching rules for that door; null if none. */
export function findStatsGroup(
  name: Uint8Array,
  door: "text" | "binary",
): StatsGroup | null {
  for (const group of STATS_GROUPS) {
    const n = group.name.length;
    if (door === "binary" && group.textOnly) continue;
    const prefix = door === "binary" && group.binaryPrefix === true;
    if (prefix ? name.length < n : name.length !== n) continue;
    if (bytesEqualAscii(name, 0, group.name)) return group;
  }
  return null;
}

/**
 * The numbers behind `stats`, `GET /stats` and `GET /metrics`, in memcached's order and names.
 * All three renderings call these functions so they never disagree.
 */
export function generalStats(ctx: ServerContext): Stat[] {
  const { store, config } = ctx;
  const c = store.totals();
  const clock = store.clock;
  // Deno's global process, loaded at the first stats rather than at start-up (node:process
  // costs about 10 ms there).
  // deno-lint-ignore no-process-global
  const usage = process.cpuUsage();
  const watch = introspection(ctx).watch;
  return [
    ["pid", Deno.pid],
    ["uptime", clock.now - clock.started],
    ["time", clock.now],
    ["version", VERSION],
    ["server_version", `${SERVER_NAME}/${SERVER_VERSION}`],
    ["libevent", "deno"],
    ["pointer_size", 64],
    ["rusage_user", (usage.user / 1e6).toFixed(6)],
    ["rusage_system", (usage.system / 1e6).toFixed(6)],
    ["max_connections", config.maxConnections],
    ["curr_connections", c.curr_connections],
    ["total_connections", c.total_connections],
    ["rejected_connections", c.rejected_connections],
    ["connection_structures", c.connection_structures],
    ...bufferStats(ctx),
    ["cmd_get", c.cmd_get],
    ["cmd_set", c.cmd_set],
    ["cmd_flush", c.cmd_flush],
    ["cmd_touch", c.cmd_touch],
    ["cmd_meta", c.cmd_meta],
    ["get_hits", c.get_hits],
    ["get_misses", c.get_misses],
    ["get_expired", c.get_expired],
    ["get_flushed", c.get_flushed],
    ["delete_misses", c.delete_misses],
    ["delete_hits", c.delete_hits],
    ["incr_misses", c.incr_misses],
    ["incr_hits", c.incr_hits],
    ["decr_misses", c.decr_misses],
    ["decr_hits", c.decr_hits],
    ["cas_misses", c.cas_misses],
    ["cas_hits", c.cas_hits],
    ["cas_badval", c.cas_badval],
    ["touch_hits", c.touch_hits],
    ["touch_misses", c.touch_misses],
    ["store_too_large", c.store_too_large],
    ["store_no_memory", c.store_no_memory],
    ["auth_cmds", c.auth_cmds],
    ["auth_errors", c.auth_errors],
    ...(config.idleTimeout > 0 ? [["idle_kicks", c.idle_kicks] as Stat] : []),
    ["bytes_read", c.bytes_read],
    ["bytes_written", c.bytes_written],
    ["limit_maxbytes", store.maxBytes],
    ["accepting_conns", 1],
    // Over -c a connection is refused at once (memcached's maxconns_fast): accept never pauses.
    ["listen_disabled_num", 0],
    ["time_in_listen_disabled_us", 0],
    ["threads", config.threads],
    ["conn_yields", c.conn_yields],
    ["hash_power_level", Math.log2(store.hashBuckets)],
    ["hash_bytes", store.hashBuckets * Int32Array.BYTES_PER_ELEMENT],
    // The hash table doubles in one step, never in the background.
    ["hash_is_expanding", 0],
    // No class owns pages (items of every size share the store's segments): nothing to reassign.
    ["slab_reassign_rescues", 0],
    ["slab_reassign_chunk_rescues", 0],
    ["slab_reassign_evictions_nomem", 0],
    ["slab_reassign_inline_reclaim", 0],
    ["slab_reassign_busy_items", 0],
    ["slab_reassign_busy_deletes", 0],
    ["slab_reassign_running", 0],
    ["slabs_moved", 0],
    ["lru_crawler_running", 0],
    ["lru_crawler_starts", c.lru_crawler_starts],
    ["lru_maintainer_juggles", 0],
    ["malloc_fails", 0],
    ["log_worker_dropped", 0],
    ["log_worker_written", 0],
    ["log_watcher_skipped", c.log_watcher_skipped],
    ["log_watcher_sent", c.log_watcher_sent],
    ["log_watchers", watch.count],
    ...tlsStats(ctx, c),
    ["unexpected_napi_ids", 0],
    ["round_robin_fallback", 0],
    ["bytes", store.bytes],
    ["curr_items", store.currItems],
    ["total_items", c.total_items],
    ["slab_global_page_pool", store.freePages],
    ["expired_unfetched", c.expired_unfetched],
    ["evicted_unfetched", c.evicted_unfetched],
    ["evicted_active", c.evicted_active],
    ["evictions", c.evictions],
    ["reclaimed", c.reclaimed],
    ["crawler_reclaimed", c.crawler_reclaimed],
    ["crawler_items_checked", c.crawler_items_checked],
    // No HOT/WARM/COLD LRUs (eviction is S3-FIFO over segments), and a hit is never dropped.
    ["lrutail_reflocked", 0],
    ["moves_to_cold", 0],
    ["moves_to_warm", 0],
    ["moves_within_lru", 0],
    ["direct_reclaims", c.direct_reclaims],
    ["lru_bumps_dropped", 0],
    ["http_requests", c.http_requests],
    ["http_errors", c.http_errors],
    ["rss_bytes", Deno.memoryUsage().rss],
  ];
}

export function settingsStats(ctx: ServerContext): Stat[] {
  const { config, store } = ctx;
  return [
    ["maxbytes", store.maxBytes],
    ["maxconns", config.maxConnections],
    ["tcpport", config.port],
    ["udpport", config.udpPort],
    ["inter", config.listen],
    ["verbosity", introspection(ctx).settings.verbosity],
    ["oldest", 0],
    ["evictions", config.evictions ? "on" : "off"],
    ["domain_socket", config.unixSocket ?? "NULL"],
    ["umask", config.unixMask.toString(8)],
    ["num_threads", config.threads],
    ["shutdown_command", config.shutdownEnabled ? "yes" : "no"],
    ["stat_key_prefix", config.prefixDelimiter],
    ["detail_enabled", introspection(ctx).settings.detail ? "yes" : "no"],
    ["reqs_per_event", config.reqsPerEvent],
    ["cas_enabled", config.casEnabled ? "yes" : "no"],
    ["tcp_backlog", config.tcpBacklog],
    ["binding_protocol", config.protocol === "auto" ? "auto-negotiate" : config.protocol],
    ["auth_enabled_sasl", config.saslEnabled ? "yes" : "no"],
    ["auth_enabled_ascii", config.authFile !== null ? "yes" : "no"],
    ["item_size_max", config.itemSizeMax],
    ["lru_crawler", introspection(ctx).settings.crawlerEnabled ? "yes" : "no"],
    ["lru_maintainer_thread", config.lruMaintainer ? "yes" : "no"],
    ["flush_enabled", config.flushEnabled ? "yes" : "no"],
    ["dump_enabled", config.dumpEnabled ? "yes" : "no"],
    ["idle_timeout", config.idleTimeout],
    ["watcher_logbuf_size", config.watcherBufferBytes],
    ...tlsSettings(config),
    ["http_port", config.httpPort],
    ["http_host", config.httpHost],
    ["http_auth", config.httpToken !== null ? "yes" : "no"],
    ["http_conn_limit", config.httpConnLimit],
  ];
}

/** `stats items`: per memcached size class (src/store/classes.ts says what each figure is). */
export function itemsStats(ctx: ServerContext): Stat[] {
  return ctx.store.itemRows();
}

export function slabsStats(ctx: ServerContext): Stat[] {
  return ctx.store.slabRows();
}

/** This thread's connections as they are, and at -t N the other threads' as they listed them. */
function allConnections(ctx: ServerContext): (ConnectionInfo | ConnectionRow)[] {
  const table = ctx.connectionTable;
  return table === undefined ? [...ctx.connections] : [...ctx.connections, ...table.others()];
}

export function connsStats(ctx: ServerContext): Stat[] {
  const now = ctx.store.clock.now;
  const lines: Stat[] = [];
  for (const conn of allConnections(ctx).sort((a, b) => a.id - b.id)) {
    if (conn.addr.startsWith("udp")) lines.push([`${conn.id}:UDP`, "UDP"]);
    lines.push([`${conn.id}:addr`, conn.addr]);
    if (conn.listenAddr !== "") lines.push([`${conn.id}:listen_addr`, conn.listenAddr]);
    lines.push(
      [`${conn.id}:state`, conn.state],
      // Each thread's coarse clock ticks on its own timer: another's may be a second ahead.
      [`${conn.id}:secs_since_last_cmd`, Math.max(0, now - conn.lastCommand)],
    );
  }
  // Never at -t 1; at -t N only if more clients came at once than -c and the spare slots allow.
  const unlisted = ctx.connectionTable?.unlisted ?? 0;
  if (unlisted > 0) lines.push(["conns_unlisted", unlisted]);
  return lines;
}

/**
 * memcached's read buffers and response objects are per connection here: each connection has one
 * read buffer and one output buffer, allocated up front, so neither can run out.
 */
function bufferStats(ctx: ServerContext): Stat[] {
  let count = 0;
  let read = 0;
  let output = 0;
  for (const conn of allConnections(ctx)) {
    const bytes = "buffers" in conn ? conn.buffers : conn.bufferBytes?.();
    if (bytes === undefined || bytes === null) continue;
    count++;
    read += bytes.read;
    output += bytes.output;
  }
  return [
    ["response_obj_oom", 0],
    ["response_obj_count", count],
    ["response_obj_bytes", output],
    ["read_buf_count", count],
    ["read_buf_bytes", read],
    ["read_buf_bytes_free", 0],
    ["read_buf_oom", 0],
    // memcached's own reserve (5 a worker thread); ours is the one -c is checked against.
    ["reserved_fds", RESERVED_DESCRIPTORS],
  ];
}
