/** `/health`: 200 while the server is serving; the one route that needs no token. */
import type { Hono } from "hono";
import type { ServerContext } from "../src/context.ts";
import { SERVER_NAME, SERVER_VERSION } from "../src/version.ts";
import { json } from "./errors.ts";

export function healthRoutes(app: Hono, ctx: ServerContext): void {
  app.get("/health", () => {
    const clock = ctx.store.clock;
    return json({
      status: "ok",
      uptime: clock.now - clock.started,
      server: SERVER_NAME,
      version: SERVER_VERSION,
    });
  });
}
