// The text panels: header, "now" tiles, memory by size class, settings, hot keys, persistence.
import { apiFetch } from "./api.js";
import { formatBytes, formatCount } from "./charts.js";

const byId = (id) => document.getElementById(id);

function cell(tag, text) {
  const el = document.createElement(tag);
  el.textContent = text;
  return el;
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return (d > 0 ? `${d}d ` : "") + (d > 0 || h > 0 ? `${h}h ` : "") + `${m}m ${s}s`;
}

/** Updates the header and the tiles from one stats event. */
export function showNow(event, previous) {
  const s = event.stats;
  // server_version is "deno-memcached/0.2.0"; version is memcached's, which clients parse.
  byId("version").textContent = `${String(s.server_version ?? "").split("/")[1] ?? ""} ` +
    `(memcached ${s.version} protocol)`;
  byId("uptime").textContent = duration(s.uptime);
  byId("tile-items").textContent = formatCount(s.curr_items);
  const used = s.limit_maxbytes > 0 ? (100 * s.bytes) / s.limit_maxbytes : 0;
  byId("tile-memory").textContent = `${formatBytes(s.bytes)} of ${formatBytes(s.limit_maxbytes)} ` +
    `(${used.toFixed(1)}%)`;
  const lookups = s.get_hits + s.get_misses;
  byId("tile-hits").textContent = lookups === 0
    ? "no gets yet"
    : `${((100 * s.get_hits) / lookups).toFixed(1)}% of ${formatCount(lookups)} gets`;
  if (previous !== null) {
    const seconds = Math.max(0.001, (event.at - previous.at) / 1000);
    const ops = [
      "cmd_get",
      "cmd_set",
      "cmd_touch",
      "delete_hits",
      "delete_misses",
      "incr_hits",
      "incr_misses",
      "decr_hits",
      "decr_misses",
    ]
      .reduce((sum, n) => sum + Math.max(0, s[n] - previous.stats[n]), 0);
    byId("tile-ops").textContent = formatCount(ops / seconds);
  }
  byId("tile-sets").textContent = formatCount(s.cmd_set);
  byId("tile-conns").textContent = `${s.curr_connections} open, ${
    formatCount(s.total_connections)
  } total`;
  byId("tile-evictions").textContent = `${formatCount(s.evictions)} evicted, ${
    formatCount(s.reclaimed)
  } reclaimed`;
}

/**
 * Memory by size class from the `slabs` part of an event (memcached's `stats slabs` names,
 * "<class>:<field>"): one row per class with whichever fields the storage engine reports.
 */
export function showSlabs(slabs, stats) {
  const classes = new Map();
  for (const [name, value] of Object.entries(slabs)) {
    const m = /^(\d+):(\w+)$/.exec(name);
    if (m === null) continue;
    if (!classes.has(m[1])) classes.set(m[1], {});
    classes.get(m[1])[m[2]] = value;
  }
  const body = byId("slabs").tBodies[0];
  const rows = [];
  for (const [id, c] of classes) {
    const memory = c.mem_requested ??
      (c.chunk_size !== undefined && c.used_chunks !== undefined
        ? c.chunk_size * c.used_chunks
        : (classes.size === 1 ? stats.bytes : undefined));
    const row = document.createElement("tr");
    row.append(
      cell("td", id),
      cell("td", c.chunk_size === undefined ? "all sizes" : formatBytes(c.chunk_size)),
      cell("td", formatCount(c.used_chunks ?? 0)),
    );
    const share = memory === undefined || stats.limit_maxbytes === 0
      ? 0
      : Math.min(100, (100 * memory) / stats.limit_maxbytes);
    const bar = document.createElement("td");
    bar.className = "bar";
    bar.style.setProperty("--share", `${share}%`);
    bar.textContent = memory === undefined
      ? "–"
      : `${formatBytes(memory)} (${share.toFixed(1)}% of limit)`;
    row.append(bar);
    rows.push(row);
  }
  if (rows.length === 0) {
    const row = document.createElement("tr");
    const empty = cell("td", "no items stored");
    empty.colSpan = 4;
    row.append(empty);
    rows.push(row);
  }
  body.replaceChildren(...rows);
  byId("slabs-total").textContent = `Pages allocated: ${formatBytes(slabs.total_malloced ?? 0)}` +
    ` of ${formatBytes(stats.limit_maxbytes)}; ${slabs.active_slabs ?? 0} active class(es).`;
}

export async function showSettings() {
  const res = await apiFetch("/stats/settings");
  if (!res.ok) throw new Error(`settings answered ${res.status}`);
  const settings = await res.json();
  const rows = Object.entries(settings).map(([name, value]) => {
    const row = document.createElement("tr");
    row.append(cell("th", name), cell("td", String(value)));
    return row;
  });
  byId("settings").tBodies[0].replaceChildren(...rows);
  return settings;
}

/**
 * Hot keys come from `GET /stats/hotkeys` (a sampler of one read in `sample_every`, counting per
 * key in fixed memory): the table shows each key's estimated reads since start.
 */
export function watchHotKeys() {
  const render = (body) => {
    const rows = body.keys.map((entry) => {
      const row = document.createElement("tr");
      const key = cell("td", entry.key);
      key.className = "mono";
      row.append(key, cell("td", formatCount(entry.estimated_reads)));
      return row;
    });
    byId("hotkeys").tBodies[0].replaceChildren(...rows);
    byId("hotkeys-note").textContent = rows.length === 0
      ? `No reads sampled yet: one read in ${body.sample_every} is looked at.`
      : `From ${formatCount(body.sampled)} sampled reads (one in ${body.sample_every}); ` +
        `estimates, best for the busiest keys.`;
  };
  return refreshEvery(5000, async () => {
    const res = await apiFetch("/stats/hotkeys?top=10");
    if (res.ok) render(await res.json());
    else await res.body?.cancel();
  });
}

/** Persistence (-e, --persist-log) from `GET /stats/persistence`: what a restart keeps. */
export function watchPersistence() {
  const show = (p) => {
    const off = p.persist_mode === "off";
    byId("persist-state").textContent = off
      ? "Off: a restart starts empty (start with -e FILE or --persist-log DIR to keep items)."
      : p.persist_mode === "log"
      ? `Log with fsync ${p.persist_fsync}: ${p.persist_status}.`
      : `Snapshot on every clean stop: ${p.persist_status}.`;
    const log = p.persist_mode === "log";
    const rows = off ? [] : [
      ["Errors", formatCount(p.persist_errors)],
      ["Bytes written", formatBytes(p.persist_bytes_written)],
      ...(log
        ? [
          ["Log size", formatBytes(p.persist_log_bytes)],
          ["fsync average / max", `${p.persist_fsync_avg_us} µs / ${p.persist_fsync_max_us} µs`],
          ["Log rewrites", formatCount(p.persist_rewrites)],
        ]
        : []),
      [
        "Last snapshot",
        p.persist_last_snapshot_time === 0
          ? "none yet"
          : `${new Date(p.persist_last_snapshot_time * 1000).toLocaleString()}, ` +
            `${
              formatCount(p.persist_last_snapshot_items)
            } items in ${p.persist_last_snapshot_ms} ms`,
      ],
      [
        "Restored at start",
        `${formatCount(p.persist_items_restored)} items in ${p.persist_restore_ms} ms`,
      ],
    ].map(([name, value]) => {
      const row = document.createElement("tr");
      row.append(cell("th", name), cell("td", value));
      return row;
    });
    byId("persistence").tBodies[0].replaceChildren(...rows);
  };
  return refreshEvery(5000, async () => {
    const res = await apiFetch("/stats/persistence");
    if (res.ok) show(await res.json());
    else await res.body?.cancel();
  });
}

async function refreshEvery(ms, refresh) {
  await refresh();
  setInterval(() => refresh().catch(() => {}), ms);
}
