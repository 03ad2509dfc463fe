/**
 * `/health`: 200 while the server is serving; the one route that needs no token. `persistence`
 * says "off", "ok" or "degraded" (writes to disk failing while the cache keeps serving).
 */
import type { Hono } from "hono";
import type { ServerContext } from "../src/context.ts";
import { SERVER_NAME, SERVER_VERSION } from "../src/version.ts";
import { json } from "./errors.ts";

export function healthRoutes(app: Hono, ctx: ServerContext): void {
  app.get("/health", () => {
    const clock = ctx.store.clock;
    // A failing disk leaves the cache serving, so this stays 200: a load balancer that pulled the
    // server would send its whole load to the database, the harm persistence is there to prevent.
    const p = ctx.persistence;
    return json({
      status: "ok",
      uptime: clock.now - clock.started,
      server: SERVER_NAME,
      version: SERVER_VERSION,
      persistence: p === undefined ? "off" : p.health,
      ...(p === undefined ? {} : { persist_errors: p.stats.errors }),
    });
  });
}
