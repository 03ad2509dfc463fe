/**
 * The `-t` rows of `deno task bench`: a client of two threads (memaslap -T 2 -c 64) against this
 * server at -t 2, memcached -t 2 and this server at -t 1 (the scaling), in rotating order; and
 * the RSS each extra worker thread adds once `items` items are loaded.
 */
import { loadItems, VALUE_BYTES } from "./load.ts";
import { type Child, rssBytes, run, startMemcached, startOurs } from "./procs.ts";
import type * as Run from "./run.ts";

type MakeRow = typeof Run.row;
type Rotate = typeof Run.rotate;

export interface ThreadBench {
  memaslap: string;
  rounds: number;
  seconds: number;
  memoryMb: string;
  items: number;
  row: MakeRow;
  rotate: Rotate;
}

async function round(b: ThreadBench, port: number, division: number): Promise<number | null> {
  const args = ["-s", `127.0.0.1:${port}`, "-T", "2", "-c", "64", "-X", String(VALUE_BYTES)];
  args.push("-t", `${b.seconds}s`);
  if (division > 1) args.push("-d", String(division));
  const m = /TPS:\s*(\d+)/.exec(await run(b.memaslap, args));
  return m === null ? null : Number(m[1]);
}

export async function threadRows(b: ThreadBench): Promise<Run.Row[]> {
  const rows: Run.Row[] = [];
  const two = await startOurs(["-m", b.memoryMb, "-t", "2"]);
  const one = await startOurs(["-m", b.memoryMb, "-t", "1"]);
  const reference = await startMemcached(["-m", b.memoryMb, "-t", "2"]);
  const children: Child[] = [two, one, ...(reference === null ? [] : [reference])];
  try {
    if (reference !== null) {
      for (const [name, division] of [["mixed 9:1", 1], ["multi-get -d 10", 10]] as const) {
        const [o2, r2, o1] = await b.rotate(b.rounds, [
          () => round(b, two.port, division),
          () => round(b, reference.port, division),
          () => round(b, one.port, division),
        ]);
        const label = `${name}, memaslap -T 2 -c 64`;
        rows.push(b.row(`${label}, -t 2`, "ops/s", "memcached -t 2", ">= 0.90", o2, r2));
        rows.push(b.row(`${label}, -t 2`, "ops/s", "ours -t 1", ">= 1.40", o2, o1));
        console.error(
          `${name} (-T 2) rounds: ours -t 2 ${o2.join(" ")}; memcached -t 2 ${r2.join(" ")}; ` +
            `ours -t 1 ${o1.join(" ")}`,
        );
      }
    }
    await loadItems(two.port, b.items);
    await loadItems(one.port, b.items);
    await new Promise((r) => setTimeout(r, 1000));
    const extra = await rssBytes(two.process.pid) - await rssBytes(one.process.pid);
    rows.push(
      b.row(
        `RSS a second worker adds, ${b.items.toLocaleString("en-US")} items`,
        "MiB",
        "-",
        "<= 15 MiB",
        [extra],
        [null],
      ),
    );
  } finally {
    for (const c of children) await c.stop();
  }
  return rows;
}
