import { Hono } from "hono";
import type { ServerContext } from "../src/context.ts";
import { adminRoutes } from "./admin.ts";
import { installFallbacks, requireToken } from "./errors.ts";
import { healthRoutes } from "./health.ts";
import { keyRoutes } from "./keys.ts";
import { metricsRoutes } from "./metrics.ts";
import { openapiRoutes } from "./openapi.ts";
import { statsRoutes } from "./stats.ts";

/** A fetch handler for Deno.serve: the plain-read fast path first, then the Hono app. */
export type HttpHandler = (
  request: Request,
  info?: Deno.ServeHandlerInfo,
) => Response | Promise<Response>;

/** The HTTP door: the Hono app, and the handler Deno.serve calls (the app behind a fast path). */
export interface HttpDoor {
  app: Hono;
  fetch: HttpHandler;
}

/** The HTTP door: a translation of HTTP requests into calls on the shared store. */
export function createHttpDoor(ctx: ServerContext): HttpDoor {
  const app = new Hono();
  const counters = ctx.store.counters;
  const token = ctx.config.httpToken;
  if (token !== null) app.use("*", requireToken(token, counters));
  const durability = ctx.persistence?.durability ?? null;
  if (durability !== null) {
    // --fsync always: a response goes out once the changes it acknowledges are on disk.
    app.use("*", async (_c, next) => {
      const changes = durability.changes();
      await next();
      if (durability.changes() !== changes) await durability.wait();
    });
  }
  healthRoutes(app, ctx);
  const readValue = keyRoutes(app, ctx);
  statsRoutes(app, ctx);
  metricsRoutes(app, ctx);
  adminRoutes(app, ctx);
  openapiRoutes(app);
  installFallbacks(app, counters);

  const fetch: HttpHandler = (request, info) => {
    counters.http_requests++;
    // GET /keys/{key} is the hot path: without a token to check, call its handler directly
    // rather than route it (Hono's routing and context cost a fifth of the throughput there).
    if (token === null && request.method === "GET") {
      const url = request.url;
      if (isPlainKeyPath(url)) return readValue(url);
    }
    return app.fetch(request, info);
  };
  return { app, fetch };
}

/** True for `.../keys/<one segment>` with nothing after it, the URLs `readValue` serves. */
function isPlainKeyPath(url: string): boolean {
  const start = url.indexOf("/", url.indexOf(":") + 3);
  if (!url.startsWith("/keys/", start) || url.length === start + 6) return false;
  for (let i = start + 6; i < url.length; i++) {
    const ch = url.charCodeAt(i);
    if (ch === 47 /* / */ || ch === 63 /* ? */ || ch === 35 /* # */) return false;
  }
  return true;
}
