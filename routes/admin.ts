/** `/admin`: operations on the whole cache (memcached's `flush_all` and `stats reset`). */
import type { Hono } from "hono";
import type { ServerContext } from "../src/context.ts";
import { statsGroup } from "../src/report.ts";
import { fail } from "./errors.ts";
import { BadParameter, parseExptime, Query } from "./params.ts";

export function adminRoutes(app: Hono, ctx: ServerContext): void {
  const store = ctx.store;
  app.post("/admin/flush", (c) => {
    if (!ctx.config.flushEnabled) {
      store.counters.cmd_flush++;
      return fail(store.counters, 403, "forbidden", "flush_all is disabled on this server (-F)");
    }
    const text = new Query(c.req.raw.url).text("delay");
    const delay = text === undefined ? 0 : parseExptime("delay", text);
    if (delay < 0) throw new BadParameter("delay must not be negative");
    store.flush(delay);
    return new Response(null, { status: 204 });
  });
  app.post("/admin/stats/reset", () => {
    statsGroup("reset").rows(ctx);
    return new Response(null, { status: 204 });
  });
}
