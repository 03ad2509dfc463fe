/**
 * The introspection views over HTTP: `GET /watch` (memcached's watch as Server-Sent Events),
 * `GET /keys?stream=ndjson` (every key with its metadata, streamed), `GET /stats/detail` and
 * `GET /stats/hotkeys`. Each is behind the token like every route but /health.
 */
import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { ServerContext } from "../src/context.ts";
import { ndjsonLine, streamItems } from "../src/introspect/dump.ts";
import { introspection } from "../src/introspect/introspection.ts";
import { WATCH_CLASSES } from "../src/introspect/watch.ts";
import { fail, json } from "./errors.ts";

/** Most hot keys one request may ask for (the sampler keeps no more than its capacity anyway). */
const MAX_TOP = 256;

export function introspectionRoutes(app: Hono, ctx: ServerContext): void {
  const counters = ctx.store.counters;
  const state = introspection(ctx);

  app.get("/watch", (c) => {
    if (!ctx.config.watchEnabled) {
      return fail(counters, 403, "watch_disabled", "watching is disabled on this server (-W)");
    }
    const names = (c.req.query("events") ?? "fetchers").split(",").filter((n) => n !== "");
    let flags = 0;
    for (const name of names) {
      const flag = WATCH_CLASSES[name];
      if (flag === undefined) {
        return fail(counters, 400, "bad_parameter", `unknown event class "${name}"`);
      }
      flags |= flag;
    }
    return streamSSE(c, async (stream) => {
      const send = async (text: string) => {
        for (const line of text.split("\n")) if (line !== "") await stream.writeSSE({ data: line });
      };
      // A reader that falls a whole buffer behind is dropped rather than buffered for.
      const watcher = state.watch.add(flags, ctx.config.watcherBufferBytes, send, true);
      if (watcher === null) {
        await stream.writeSSE({
          event: "error",
          data: "WATCHER_TOO_MANY log watcher limit reached",
        });
        return;
      }
      stream.onAbort(() => state.watch.remove(watcher));
      await stream.writeSSE({ event: "ready", data: names.join(",") });
      await watcher.done;
    });
  });

  app.get("/keys", async (c, next) => {
    if (c.req.query("stream") === undefined) return await next();
    if (c.req.query("stream") !== "ndjson") {
      return fail(counters, 400, "bad_parameter", 'stream must be "ndjson"');
    }
    if (!ctx.config.dumpEnabled) {
      return fail(counters, 403, "dump_disabled", "key dumps are disabled on this server (-X)");
    }
    const encoder = new TextEncoder();
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    streamItems(ctx.store, ndjsonLine, (text) => writer.write(encoder.encode(text))).then(
      () => writer.close(),
      (err) => writer.abort(err).catch(() => {}),
    );
    return new Response(readable, { headers: { "content-type": "application/x-ndjson" } });
  });

  app.get("/stats/detail", () => {
    const prefixes: Record<string, unknown> = {};
    for (const [prefix, counts] of state.prefixes.entries()) prefixes[prefix] = counts;
    return json({
      enabled: state.settings.detail,
      delimiter: ctx.config.prefixDelimiter,
      dropped: state.prefixes.dropped,
      prefixes,
    });
  });

  app.get("/stats/hotkeys", (c) => {
    const text = c.req.query("top") ?? "10";
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_TOP) {
      return fail(counters, 400, "bad_parameter", `top must be 1 to ${MAX_TOP}`);
    }
    const hot = state.hot;
    return json({
      sample_every: hot.every,
      capacity: hot.capacity,
      sampled: hot.sampled,
      keys: hot.top(Number(text)).map((k) => ({ ...k, estimated_reads: k.count * hot.every })),
    });
  });
}
