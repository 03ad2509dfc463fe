/**
 * The trace-replay rows: each trace is replayed once against a fresh server of ours and a fresh
 * memcached, both at -m 64, and compared on hit ratio, items held, bytes held and RSS.
 */
import { rssBytes, startMemcached, startOurs } from "./procs.ts";
import { buildTrace, EVERY_CLASS_MIX, replay, type TraceSpec, WEB_MIX } from "./trace.ts";

const MEMORY_MB = "64";

/** run.ts's row() (a type only: run.ts imports this module). */
type RowMaker<R> = (...args: Parameters<typeof import("./run.ts").row>) => R;

function specs(requests: number): TraceSpec[] {
  const base = { requests, universe: 200_000, oneHitShare: 0.2, seed: 11 };
  return [
    { ...base, alpha: 0.9, mix: WEB_MIX },
    { ...base, alpha: 1.2, mix: WEB_MIX },
    { ...base, alpha: 0.9, mix: EVERY_CLASS_MIX, universe: 50_000 },
  ];
}

export async function traceRows<R>(requests: number, row: RowMaker<R>): Promise<R[]> {
  const rows: R[] = [];
  for (const spec of specs(requests)) {
    const trace = buildTrace(spec);
    const name = `trace zipf ${spec.alpha} ${spec.mix.name}`;
    const figures = [];
    for (
      const start of [() => startOurs(["-m", MEMORY_MB]), () => startMemcached(["-m", MEMORY_MB])]
    ) {
      const child = await start();
      if (child === null) return rows;
      try {
        const started = performance.now();
        const result = await replay(child.port, trace);
        const rss = await rssBytes(child.process.pid);
        figures.push({ ...result, rss });
        console.error(
          `${name}: hit ${
            result.hitRatio.toFixed(3)
          } items ${result.items} bytes ${result.bytes} ` +
            `rss ${(rss / 1048576).toFixed(1)} MiB in ${
              Math.round(performance.now() - started)
            } ms`,
        );
      } finally {
        await child.stop();
      }
    }
    const [o, m] = figures;
    rows.push(
      row(`${name}: hit ratio`, "hit ratio", "memcached", ">= 1.00", [o.hitRatio], [m.hitRatio]),
      row(`${name}: items held`, "items", "memcached", "(context)", [o.items], [m.items]),
      row(`${name}: bytes held`, "bytes", "memcached", ">= 0.90", [o.bytes], [m.bytes]),
      row(`${name}: RSS`, "MiB", "memcached", "<= ref + 50 MiB", [o.rss], [m.rss]),
    );
  }
  return rows;
}
