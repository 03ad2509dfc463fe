/**
 * `/metrics`: the stats in Prometheus text format, under the names and labels of the Prometheus
 * memcached exporter (prometheus/memcached_exporter), so dashboards built on it work unchanged.
 */
import type { Hono } from "hono";
import type { ServerContext } from "../src/context.ts";
import { generalStats, itemsStats, type Stat } from "../src/report.ts";

type Kind = "counter" | "gauge";

/** Accumulates metric families: one HELP and TYPE line each, then its samples. */
class Exposition {
  private text = "";
  private readonly seen = new Set<string>();

  sample(
    name: string,
    kind: Kind,
    help: string,
    value: number,
    labels: Record<string, string> = {},
  ): void {
    if (!this.seen.has(name)) {
      this.seen.add(name);
      this.text += `# HELP ${name} ${help}\n# TYPE ${name} ${kind}\n`;
    }
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    this.text += `${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${value}\n`;
  }

  toString(): string {
    return this.text;
  }
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** [exporter metric, stat name, kind, help] for the metrics that map one stat to one sample. */
const PLAIN: [string, string, Kind, string][] = [
  ["memcached_uptime_seconds", "uptime", "counter", "Number of seconds since the server started."],
  ["memcached_time_seconds", "time", "gauge", "current UNIX time according to the server."],
  [
    "memcached_process_user_cpu_seconds_total",
    "rusage_user",
    "counter",
    "Accumulated user time for this process.",
  ],
  [
    "memcached_process_system_cpu_seconds_total",
    "rusage_system",
    "counter",
    "Accumulated system time for this process.",
  ],
  ["memcached_current_bytes", "bytes", "gauge", "Current number of bytes used to store items."],
  [
    "memcached_limit_bytes",
    "limit_maxbytes",
    "gauge",
    "Number of bytes this server is allowed to use for storage.",
  ],
  ["memcached_current_items", "curr_items", "gauge", "Current number of items stored."],
  [
    "memcached_items_total",
    "total_items",
    "counter",
    "Total number of items stored during the life of this instance.",
  ],
  [
    "memcached_read_bytes_total",
    "bytes_read",
    "counter",
    "Total number of bytes read by this server from network.",
  ],
  [
    "memcached_written_bytes_total",
    "bytes_written",
    "counter",
    "Total number of bytes sent by this server to network.",
  ],
  [
    "memcached_current_connections",
    "curr_connections",
    "gauge",
    "Current number of open connections.",
  ],
  ["memcached_max_connections", "max_connections", "gauge", "Maximum number of clients allowed."],
  [
    "memcached_connections_total",
    "total_connections",
    "counter",
    "Total number of connections opened since the server started running.",
  ],
  [
    "memcached_connections_rejected_total",
    "rejected_connections",
    "counter",
    "Total number of connections rejected due to hitting the -c limit.",
  ],
  [
    "memcached_items_evicted_total",
    "evictions",
    "counter",
    "Total number of valid items removed from cache to free memory for new items.",
  ],
  [
    "memcached_items_reclaimed_total",
    "reclaimed",
    "counter",
    "Total number of times an entry was stored using memory from an expired entry.",
  ],
  [
    "memcached_item_too_large_total",
    "store_too_large",
    "counter",
    "The number of times an item exceeded the max-item-size when being stored.",
  ],
  [
    "memcached_item_no_memory_total",
    "store_no_memory",
    "counter",
    "The number of times an item could not be stored due to no more memory.",
  ],
  [
    "memcached_lru_crawler_reclaimed_total",
    "crawler_reclaimed",
    "counter",
    "Total items freed by LRU Crawler.",
  ],
  [
    "memcached_lru_crawler_items_checked_total",
    "crawler_items_checked",
    "counter",
    "Total items examined by LRU Crawler.",
  ],
  [
    "memcached_lru_crawler_starts_total",
    "lru_crawler_starts",
    "counter",
    "Times an LRU crawler was started.",
  ],
  [
    "memcached_direct_reclaims_total",
    "direct_reclaims",
    "counter",
    "Times worker threads had to directly reclaim or evict items.",
  ],
  [
    "memcached_connections_yielded_total",
    "conn_yields",
    "counter",
    "Total number of connections yielded running due to hitting the memcached's -R limit.",
  ],
  [
    "memcached_connections_listener_disabled_total",
    "listen_disabled_num",
    "counter",
    "Number of times that memcached has hit its connections limit and disabled its listener.",
  ],
  [
    "memcached_accepting_connections",
    "accepting_conns",
    "gauge",
    "The server is currently accepting new connections.",
  ],
  [
    "memcached_http_requests_total",
    "http_requests",
    "counter",
    "HTTP requests received (this server's own metric).",
  ],
  [
    "memcached_http_errors_total",
    "http_errors",
    "counter",
    "HTTP requests refused as malformed, unauthorized or failed (this server's own metric).",
  ],
];

/** `stats persistence` rows and this server's metric for each. */
const PERSIST: Record<string, [string, Kind, string]> = {
  persist_errors: ["memcached_persist_errors_total", "counter", "Failed persistence writes."],
  persist_bytes_written: [
    "memcached_persist_written_bytes_total",
    "counter",
    "Bytes written to the log and snapshots.",
  ],
  persist_fsyncs: ["memcached_persist_fsyncs_total", "counter", "fsync calls on the log."],
  persist_fsync_avg_us: [
    "memcached_persist_fsync_avg_microseconds",
    "gauge",
    "Mean fsync latency of the log.",
  ],
  persist_fsync_max_us: [
    "memcached_persist_fsync_max_microseconds",
    "gauge",
    "Longest fsync of the log.",
  ],
  persist_last_snapshot_time: [
    "memcached_persist_last_snapshot_timestamp_seconds",
    "gauge",
    "Unix time of the last snapshot written.",
  ],
  persist_last_snapshot_ms: [
    "memcached_persist_last_snapshot_duration_milliseconds",
    "gauge",
    "How long the last snapshot took to write.",
  ],
  persist_last_snapshot_pause_ms: [
    "memcached_persist_last_snapshot_pause_milliseconds",
    "gauge",
    "Longest time the last snapshot kept clients waiting.",
  ],
  persist_rewrites: ["memcached_persist_rewrites_total", "counter", "Log rewrites completed."],
  persist_items_restored: [
    "memcached_persist_items_restored",
    "gauge",
    "Items restored from disk at start.",
  ],
};

/** `stats items` fields (items:<slab>:<field>) and the exporter's per-slab metric for each. */
const PER_SLAB: Record<string, [string, Kind, string]> = {
  number: [
    "memcached_slab_current_items",
    "gauge",
    "Number of items currently stored in this slab class.",
  ],
  age: [
    "memcached_slab_items_age_seconds",
    "gauge",
    "Number of seconds the oldest item has been in the slab class.",
  ],
  evicted: [
    "memcached_slab_items_evicted_total",
    "counter",
    "Total number of times an item had to be evicted from the LRU before it expired.",
  ],
  evicted_unfetched: [
    "memcached_slab_items_evicted_unfetched_total",
    "counter",
    "Total number of items evicted and never fetched.",
  ],
  expired_unfetched: [
    "memcached_slab_items_expired_unfetched_total",
    "counter",
    "Total number of valid items evicted from the LRU which were never touched after being set.",
  ],
  reclaimed: [
    "memcached_slab_items_reclaimed_total",
    "counter",
    "Total number of items reclaimed.",
  ],
  crawler_reclaimed: [
    "memcached_slab_items_crawler_reclaimed_total",
    "counter",
    "Number of items freed by the LRU Crawler.",
  ],
  mem_requested: [
    "memcached_slab_mem_requested_bytes",
    "gauge",
    "Number of bytes of memory actual items take up within a slab.",
  ],
};

/** Renders the exposition from the same stat functions as `stats` and `GET /stats`. */
export function renderMetrics(ctx: ServerContext): string {
  const stats = new Map<string, number | string>(generalStats(ctx));
  const num = (name: string) => Number(stats.get(name) ?? 0);
  const out = new Exposition();
  out.sample("memcached_up", "gauge", "Could the memcached server be reached.", 1);
  out.sample("memcached_version", "gauge", "The version of this memcached server.", 1, {
    version: String(stats.get("version")),
  });
  for (const [metric, stat, kind, help] of PLAIN) out.sample(metric, kind, help, num(stat));

  const commands =
    "Total number of all requests broken down by command (get, set, etc.) and status.";
  for (const op of ["get", "delete", "incr", "decr", "cas", "touch"]) {
    out.sample("memcached_commands_total", "counter", commands, num(`${op}_hits`), {
      command: op,
      status: "hit",
    });
    out.sample("memcached_commands_total", "counter", commands, num(`${op}_misses`), {
      command: op,
      status: "miss",
    });
  }
  out.sample("memcached_commands_total", "counter", commands, num("cas_badval"), {
    command: "cas",
    status: "badval",
  });
  out.sample("memcached_commands_total", "counter", commands, num("cmd_flush"), {
    command: "flush",
    status: "hit",
  });
  // As the exporter does: memcached counts cas commands in cmd_set too.
  const sets = num("cmd_set") - num("cas_misses") - num("cas_hits") - num("cas_badval");
  out.sample("memcached_commands_total", "counter", commands, sets, {
    command: "set",
    status: "hit",
  });

  for (const [stat, value] of ctx.persistence?.rows() ?? []) {
    const metric = PERSIST[stat];
    if (metric !== undefined) out.sample(metric[0], metric[1], metric[2], Number(value));
  }

  // Samples of one family must be adjacent, while `stats items` goes slab by slab.
  const perSlab = new Map<string, [string, number][]>();
  for (const [name, value] of itemsStats(ctx) as Stat[]) {
    const [, slab, field] = name.split(":");
    if (PER_SLAB[field] === undefined) continue;
    const list = perSlab.get(field) ?? [];
    list.push([slab, Number(value)]);
    perSlab.set(field, list);
  }
  for (const [field, samples] of perSlab) {
    const [metric, kind, help] = PER_SLAB[field];
    for (const [slab, value] of samples) out.sample(metric, kind, help, value, { slab });
  }
  return out.toString();
}

export function metricsRoutes(app: Hono, ctx: ServerContext): void {
  app.get("/metrics", () =>
    new Response(renderMetrics(ctx), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    }));
}
