/**
 * Persistence figures for `deno task bench --persistence`: how long a restart with 1,000,000 saved
 * items takes until the server answers (ours with -e, memcached's warm restart with -e on a tmpfs
 * file), and what a log rewrite of them pauses clients for.
 */
import { loadItems } from "./load.ts";
import { type Child, startMemcached, startOurs } from "./procs.ts";

export interface RestartFigures {
  /** ms from spawning to accepting connections, everything restored. */
  ours: number;
  oursSaveMs: number;
  oursRestored: number;
  memcached: number | null;
  /** The longest pause of a background log rewrite of the same items. */
  rewritePauseMs: number;
  rewriteMs: number;
}

async function stat(port: number, group: string, name: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(`stats ${group}`.trim() + "\r\n"));
  let text = "";
  const buf = new Uint8Array(65536);
  while (!text.endsWith("END\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  conn.close();
  const m = new RegExp(`STAT ${name} (\\d+)`).exec(text);
  return m === null ? NaN : Number(m[1]);
}

async function timedStart(start: () => Promise<Child | null>): Promise<[Child | null, number]> {
  const t = performance.now();
  const child = await start();
  return [child, performance.now() - t];
}

export async function restartFigures(items: number, memoryMb: string): Promise<RestartFigures> {
  const dir = await Deno.makeTempDir();
  const args = ["-m", memoryMb, "-e", `${dir}/snapshot`];
  const first = await startOurs(args);
  await loadItems(first.port, items);
  const saveStarted = performance.now();
  await first.stop("SIGUSR1");
  const oursSaveMs = performance.now() - saveStarted;
  const [second, ours] = await timedStart(() => startOurs(args));
  const oursRestored = await stat(second!.port, "persistence", "persist_items_restored");
  await second!.stop();

  // The log rewrite: loading the items writes ~150 MB of log, past a 32 MB bound.
  const logArgs = ["-m", memoryMb, "--persist-log", `${dir}/log`, "--persist-rewrite-size", "32m"];
  const logged = await startOurs(logArgs);
  let rewriteMs = NaN;
  let rewritePauseMs = NaN;
  // Sets again until a rewrite has snapshotted (nearly) all the items.
  for (let load = 0; load < 4 && Number.isNaN(rewriteMs); load++) {
    await loadItems(logged.port, items);
    for (let i = 0; i < 30; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const snapshotItems = await stat(logged.port, "persistence", "persist_last_snapshot_items");
      if (snapshotItems >= items * 0.99) {
        rewriteMs = await stat(logged.port, "persistence", "persist_last_snapshot_ms");
        rewritePauseMs = await stat(logged.port, "persistence", "persist_last_snapshot_pause_ms");
        break;
      }
    }
  }
  await logged.stop("SIGKILL");

  let memcached: number | null = null;
  const shm = `/dev/shm/bench-memcached-${Deno.pid}`;
  const mcArgs = ["-m", memoryMb, "-e", shm];
  const ref = await startMemcached(mcArgs);
  if (ref !== null) {
    await loadItems(ref.port, items);
    await ref.stop("SIGUSR1");
    const [again, ms] = await timedStart(() => startMemcached(mcArgs));
    const restored = await stat(again!.port, "", "curr_items");
    // Only a restart that restored the items is a figure to compare with.
    if (restored >= items * 0.9) memcached = ms;
    else {
      console.error(
        `\n!!! memcached's warm restart restored ${restored} items, not counted:\n` +
          `${again!.output().trim()} !!!\n`,
      );
    }
    await again!.stop();
    for (const f of [shm, `${shm}.meta`]) await Deno.remove(f).catch(() => {});
  }
  await Deno.remove(dir, { recursive: true });
  return { ours, oursSaveMs, oursRestored, memcached, rewritePauseMs, rewriteMs };
}
