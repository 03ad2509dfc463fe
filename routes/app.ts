import { Hono } from "hono";
import type { ServerContext } from "../src/server/context.ts";
import { generalStats } from "../src/server/report.ts";

/** The HTTP door: a translation of HTTP requests into calls on the shared store. */
export function createApp(ctx: ServerContext): Hono {
  const app = new Hono();
  app.use(async (_c, next) => {
    ctx.store.counters.http_requests++;
    await next();
  });
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/stats", (c) => c.json(Object.fromEntries(generalStats(ctx))));
  return app;
}
