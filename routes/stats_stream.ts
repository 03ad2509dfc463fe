/**
 * `GET /stats/stream`: Server-Sent Events, one `stats` event per second with what the dashboard's
 * charts need (memcached's general stats and slab stats, plus the sending time in milliseconds).
 */
import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { ServerContext } from "../src/context.ts";
import { generalStats, slabsStats } from "../src/report.ts";
import { statsObject } from "./stats.ts";

export const STREAM_PERIOD_MS = 1000;
/**
 * A client that has not taken an event within this long is dropped: the server holds at most one
 * unsent event per client instead of a queue that grows while the client does not read.
 */
export const STREAM_STALL_MS = 5000;

/** One event's data. */
export function statsSnapshot(ctx: ServerContext) {
  return {
    at: Date.now(),
    stats: statsObject(generalStats(ctx)),
    slabs: statsObject(slabsStats(ctx)),
  };
}

export function statsStreamRoutes(app: Hono, ctx: ServerContext): void {
  app.get("/stats/stream", (c) =>
    streamSSE(c, async (stream) => {
      const stopping = ctx.stopping;
      while (!stream.aborted && stopping?.aborted !== true) {
        const data = JSON.stringify(statsSnapshot(ctx));
        const taken = await within(stream.writeSSE({ event: "stats", data }), STREAM_STALL_MS);
        if (!taken) break;
        await pause(STREAM_PERIOD_MS, stopping);
      }
      // Cancels a write still waiting for the client, so the response ends now (and a stopping
      // server's shutdown does not wait for it).
      stream.abort();
    }));
}

/** True when `work` settles within `ms`. */
function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  return Promise.race([work.then(() => true), late]).finally(() => clearTimeout(timer));
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
