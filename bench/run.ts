/**
 * `deno task bench`: this server against the real memcached (and the HTTP door against a bare
 * Deno.serve), side by side in one run, alternating rounds. Prints a table and, as its last line,
 * the same figures as JSON. It measures; it asserts nothing.
 *
 * The HTTP door is also compared with a Deno.serve that sends the same three headers from
 * constants: that row shows how much of the gap to the bare server is the API's headers, which
 * take Deno off its single-header fast path.
 *
 * Options: --rounds=N (per workload, default 9), --seconds=S (per round, default 3),
 * --items=N (memory load, default 1000000), --memory-mb=M (-m for both, default 1024),
 * --trace-requests=N (per trace-replay row, default 1000000; 0 skips them), --only-traces,
 * --only-threads (the -t rows alone: bench/threads.ts), --only-tls (the TLS rows alone:
 * bench/tls_rows.ts).
 * --persistence runs only the persistence workloads instead: restart with --items saved items
 * (against memcached's warm restart), the log rewrite's pause, and memaslap throughput with
 * --fsync everysec and always as ratios of the memory-only server.
 */
import { parseArgs } from "node:util";
import { which } from "../tests/helpers/server.ts";
import { loadItems, setOne, VALUE_BYTES } from "./load.ts";
import { traceRows } from "./trace_rows.ts";
import { tlsRows } from "./tls_rows.ts";
import { restartFigures } from "./persist.ts";
import { threadRows } from "./threads.ts";
import { type Child, rssBytes, run, startBareHttp, startMemcached, startOurs } from "./procs.ts";

const { values: opts } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "9" },
    seconds: { type: "string", default: "3" },
    items: { type: "string", default: "1000000" },
    "memory-mb": { type: "string", default: "1024" },
    "trace-requests": { type: "string", default: "1000000" },
    "only-traces": { type: "boolean", default: false },
    persistence: { type: "boolean", default: false },
    "only-threads": { type: "boolean", default: false },
    "only-tls": { type: "boolean", default: false },
  },
});
const ROUNDS = Number(opts.rounds);
const SECONDS = Number(opts.seconds);
const ITEMS = Number(opts.items);
const MEMORY_MB = String(opts["memory-mb"]);
const TRACE_REQUESTS = Number(opts["trace-requests"]);

export interface Row {
  name: string;
  unit: string;
  ours: number | null;
  reference: number | null;
  referenceName: string;
  /** ours / reference */
  ratio: number | null;
  target: string;
  rounds: { ours: number[]; reference: number[] };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function row(
  name: string,
  unit: string,
  referenceName: string,
  target: string,
  ours: (number | null)[],
  reference: (number | null)[],
): Row {
  return {
    name,
    unit,
    ours: median(present(ours)),
    reference: median(present(reference)),
    referenceName,
    ratio: pairedRatio(ours, reference),
    target,
    rounds: { ours: present(ours), reference: present(reference) },
  };
}

function loud(message: string): void {
  console.error(`\n!!! ${message} !!!\n`);
}

const memaslap = which("memcaslap") ?? which("memaslap");
const wrk = which("wrk");

/** One memaslap round: ops per second (TPS), or null when its output has no figure. */
async function memaslapRound(port: number, division: number): Promise<number | null> {
  const args = ["-s", `127.0.0.1:${port}`, "-T", "1", "-c", "32", "-X", String(VALUE_BYTES)];
  args.push("-t", `${SECONDS}s`);
  if (division > 1) args.push("-d", String(division));
  const out = await run(memaslap!, args);
  const m = /TPS:\s*(\d+)/.exec(out);
  if (m === null) {
    loud(`memaslap printed no TPS:\n${out.slice(-500)}`);
    return null;
  }
  return Number(m[1]);
}

/** One wrk round: requests per second of 2xx answers, or null. */
async function wrkRound(url: string): Promise<number | null> {
  const out = await run(wrk!, ["-t", "1", "-c", "32", "-d", `${SECONDS}s`, url]);
  if (/Non-2xx or 3xx responses/.test(out)) {
    loud(`wrk saw error answers from ${url}:\n${out}`);
    return null;
  }
  const m = /Requests\/sec:\s*([\d.]+)/.exec(out);
  return m === null ? null : Number(m[1]);
}

/**
 * Runs rounds over several targets, changing their order every round (A B C, then C B A, ...) so
 * that a slow spell of this shared machine falls on all of them alike. Returns each target's
 * figures, round by round (null where a round gave no figure).
 */
export async function rotate(
  rounds: number,
  targets: (() => Promise<number | null>)[],
): Promise<(number | null)[][]> {
  const figures = targets.map(() => [] as (number | null)[]);
  for (let i = 0; i < rounds; i++) {
    const order = targets.map((_, j) => (i % 2 === 0 ? j : targets.length - 1 - j));
    for (const j of order) figures[j].push(await targets[j]());
  }
  return figures;
}

/** Figures of a target without the rounds that gave none. */
function present(xs: (number | null)[]): number[] {
  return xs.filter((x): x is number => x !== null);
}

/**
 * The median of per-round ratios (ours / reference): steadier than a ratio of medians when the
 * machine drifts. One measurement each is a single round.
 */
function pairedRatio(ours: (number | null)[], reference: (number | null)[]): number | null {
  const ratios: number[] = [];
  for (let i = 0; i < ours.length; i++) {
    const o = ours[i];
    const r = reference[i];
    if (o !== null && r !== null && r > 0) ratios.push(o / r);
  }
  return median(ratios);
}

function fmt(n: number | null, unit: string): string {
  if (n === null) return "-";
  if (unit === "MiB") return (n / 1024 / 1024).toFixed(1);
  if (unit === "hit ratio") return n.toFixed(3);
  return Math.round(n).toLocaleString("en-US");
}

function printTable(rows: Row[], context: string): void {
  const header = ["workload", "unit", "ours", "reference", "ratio", "target"];
  const lines = rows.map((r) => [
    r.name,
    r.unit,
    fmt(r.ours, r.unit),
    `${fmt(r.reference, r.unit)} (${r.referenceName})`,
    r.ratio === null ? "-" : r.ratio.toFixed(2),
    r.target,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const pad = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  console.log(`\n${context}`);
  console.log(pad(header));
  console.log(pad(widths.map((w) => "-".repeat(w))));
  for (const l of lines) console.log(pad(l));
  console.log("");
}

/** `--persistence`: restart time, rewrite pause, and the cost of the log on throughput. */
async function persistenceMain(): Promise<Row[]> {
  const rows: Row[] = [];
  const restart = await restartFigures(ITEMS, MEMORY_MB);
  console.error(
    `restart: saved in ${Math.round(restart.oursSaveMs)} ms, ${restart.oursRestored} items ` +
      `restored; rewrite of them took ${restart.rewriteMs} ms`,
  );
  rows.push(
    row(
      `start to serving ${ITEMS.toLocaleString("en-US")} restored items`,
      "ms",
      "memcached -e warm restart",
      "< 2000 ms",
      [restart.ours],
      [restart.memcached],
    ),
  );
  rows.push(
    row("longest client pause of a log rewrite", "ms", "-", "<= 50 ms", [
      restart.rewritePauseMs,
    ], [null]),
  );
  if (memaslap === null) {
    loud("SKIPPED throughput rounds: memaslap (libmemcached-tools) is not installed");
    return rows;
  }
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const plain = await startOurs(["-m", MEMORY_MB]);
  const everysec = await startOurs(["-m", MEMORY_MB, "--persist-log", dirs[0]]);
  const always = await startOurs(["-m", MEMORY_MB, "--persist-log", dirs[1], "--fsync", "always"]);
  try {
    const [p, e, a] = await rotate(ROUNDS, [
      () => memaslapRound(plain.port, 1),
      () => memaslapRound(everysec.port, 1),
      () => memaslapRound(always.port, 1),
    ]);
    rows.push(row("mixed 9:1, --fsync everysec", "ops/s", "ours, memory only", ">= 0.90", e, p));
    rows.push(row("mixed 9:1, --fsync always", "ops/s", "ours, memory only", "(stated)", a, p));
    console.error(`rounds: memory ${p.join(" ")}; everysec ${e.join(" ")}; always ${a.join(" ")}`);
  } finally {
    for (const c of [plain, everysec, always]) await c.stop();
    for (const d of dirs) await Deno.remove(d, { recursive: true });
  }
  return rows;
}

async function main(): Promise<void> {
  if (opts.persistence) {
    const rows = await persistenceMain();
    printTable(rows, `bench --persistence: ${ROUNDS} rounds of ${SECONDS}s; -m ${MEMORY_MB}`);
    console.log(JSON.stringify({ bench: "persistence", results: rows }));
    return;
  }
  const rows: Row[] = [];
  const only = opts["only-traces"] || opts["only-threads"] || opts["only-tls"];
  if (!only) await perfRows(rows);
  if (memaslap !== null && !opts["only-traces"] && !opts["only-tls"]) {
    rows.push(
      ...await threadRows({
        memaslap,
        rounds: ROUNDS,
        seconds: SECONDS,
        memoryMb: MEMORY_MB,
        items: ITEMS,
        row,
        rotate,
      }),
    );
  }
  if (!opts["only-traces"] && !opts["only-threads"]) {
    const tls = { rounds: ROUNDS, seconds: SECONDS, memoryMb: MEMORY_MB, wrk };
    rows.push(...await tlsRows(tls, row, rotate, wrkRound));
  }
  if (TRACE_REQUESTS > 0 && !opts["only-threads"] && !opts["only-tls"]) {
    rows.push(...await traceRows(TRACE_REQUESTS, row));
  }
  const version = (await run("memcached", ["-V"])).trim();
  printTable(
    rows,
    `bench: ${ROUNDS} rounds of ${SECONDS}s, targets in alternating order; medians, and the ` +
      `median of per-round ratios; -m ${MEMORY_MB}; ` +
      `${version}, deno ${Deno.version.deno}; memaslap -T 1 -c 32 -X ${VALUE_BYTES}; ` +
      `wrk -t 1 -c 32; traces: ${TRACE_REQUESTS} cache-aside requests each at -m 64`,
  );
  console.log(
    JSON.stringify({
      bench: "memcached-compat",
      rounds: ROUNDS,
      seconds: SECONDS,
      results: rows.map((r) => ({
        name: r.name,
        unit: r.unit,
        ours: r.ours,
        reference: r.reference,
        referenceName: r.referenceName,
        ratio: r.ratio === null ? null : Number(r.ratio.toFixed(3)),
        target: r.target,
        rounds: r.rounds,
      })),
    }),
  );
}

/** The throughput, memory and HTTP rows. */
async function perfRows(rows: Row[]): Promise<void> {
  const memcachedArgs = ["-m", MEMORY_MB];
  const ours = await startOurs(["-m", MEMORY_MB]);
  const reference = await startMemcached(memcachedArgs);
  if (reference === null) {
    await ours.stop();
    return;
  }
  const stopAll = async (...children: Child[]) => {
    for (const c of children) await c.stop();
  };
  try {
    // Memory first, on fresh processes.
    const baseOurs = await rssBytes(ours.process.pid);
    const baseRef = await rssBytes(reference.process.pid);
    const loadOurs = await loadItems(ours.port, ITEMS);
    const loadRef = await loadItems(reference.port, ITEMS);
    await new Promise((r) => setTimeout(r, 1000));
    const rssOurs = await rssBytes(ours.process.pid);
    const rssRef = await rssBytes(reference.process.pid);
    const mem = row(
      `RSS after ${ITEMS.toLocaleString("en-US")} items`,
      "MiB",
      "memcached",
      "<= 1.25",
      [rssOurs],
      [rssRef],
    );
    console.error(
      `memory: empty ${fmt(baseOurs, "MiB")} / ${fmt(baseRef, "MiB")} MiB, loaded ` +
        `${fmt(rssOurs, "MiB")} / ${fmt(rssRef, "MiB")} MiB (ours / memcached); load took ` +
        `${Math.round(loadOurs)} / ${Math.round(loadRef)} ms`,
    );

    if (memaslap === null) {
      loud("SKIPPED load rounds: memaslap (libmemcached-tools) is not installed");
    } else {
      const [mo, mr] = await rotate(ROUNDS, [
        () => memaslapRound(ours.port, 1),
        () => memaslapRound(reference.port, 1),
      ]);
      rows.push(row("mixed 9:1 get/set", "ops/s", "memcached", ">= 0.90", mo, mr));
      console.error(`mixed rounds: ours ${mo.join(" ")}; memcached ${mr.join(" ")}`);
      const [go, gr] = await rotate(ROUNDS, [
        () => memaslapRound(ours.port, 10),
        () => memaslapRound(reference.port, 10),
      ]);
      rows.push(row("multi-get -d 10", "ops/s", "memcached", ">= 0.80", go, gr));
      console.error(`multi-get rounds: ours ${go.join(" ")}; memcached ${gr.join(" ")}`);
    }
    rows.push(mem);

    if (wrk === null) {
      loud("SKIPPED HTTP rounds: wrk is not installed");
    } else {
      const key = "benchhttp";
      await setOne(ours.port, key, "h".repeat(VALUE_BYTES));
      const bare = await startBareHttp("plain");
      const sameHeaders = await startBareHttp("contract-headers");
      try {
        const [ho, hb, hs] = await rotate(ROUNDS, [
          () => wrkRound(`http://127.0.0.1:${ours.httpPort}/keys/${key}`),
          () => wrkRound(`http://127.0.0.1:${bare.port}/`),
          () => wrkRound(`http://127.0.0.1:${sameHeaders.port}/`),
        ]);
        rows.push(row("HTTP GET /keys/{key}", "req/s", "bare Deno.serve", ">= 0.80", ho, hb));
        rows.push(
          row("HTTP GET /keys/{key}", "req/s", "Deno.serve, same headers", "(context)", ho, hs),
        );
        console.error(
          `HTTP rounds: ours ${ho.join(" ")}; bare ${hb.join(" ")}; same headers ${hs.join(" ")}`,
        );
      } finally {
        await bare.stop();
        await sameHeaders.stop();
      }
    }
  } finally {
    await stopAll(ours, reference);
  }
}

await main();
