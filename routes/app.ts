import { Hono } from "hono";
import type { ServerContext } from "../src/context.ts";
import { adminRoutes } from "./admin.ts";
import { dashboardRoutes } from "./dashboard.ts";
import { asResponse, fail, installFallbacks, requireToken } from "./errors.ts";
import type { PlainAnswer } from "../src/http_answer.ts";
import { healthRoutes } from "./health.ts";
import { introspectionRoutes } from "./introspect.ts";
import { setActiveConnection } from "../src/introspect/tap.ts";
import { keyRoutes } from "./keys.ts";
import { metricsRoutes } from "./metrics.ts";
import { OPENAPI, openapiRoutes } from "./openapi.ts";
import { checkQuery } from "./query_check.ts";
import { statsRoutes } from "./stats.ts";
import { statsStreamRoutes } from "./stats_stream.ts";

/** What the HTTP server calls for each request: the plain-read fast path first, then the app. */
export type HttpHandler = (request: Request) => Response | Promise<Response>;

/** The HTTP door: the Hono app, and the handler the server calls (the app behind a fast path). */
export interface HttpDoor {
  app: Hono;
  fetch: HttpHandler;
  /**
   * GET /keys/{key} answered without a Request or routing, or null when `url` needs the app;
   * null itself when a token must be checked first.
   */
  plainRead: ((url: string) => Response | PlainAnswer | null) | null;
}

/** The HTTP door: a translation of HTTP requests into calls on the shared store. */
export function createHttpDoor(ctx: ServerContext): HttpDoor {
  const app = new Hono();
  const counters = ctx.store.counters;
  const token = ctx.config.httpToken;
  dashboardRoutes(app, counters); // before the token guard: the page holds no data
  if (token !== null) app.use("*", requireToken(token, counters));
  app.use("*", checkQuery(OPENAPI));
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
  // Before the key and stats routes: it takes GET /keys?stream=... and passes the rest on.
  introspectionRoutes(app, ctx);
  const readValue = keyRoutes(app, ctx);
  statsRoutes(app, ctx);
  statsStreamRoutes(app, ctx);
  metricsRoutes(app, ctx);
  adminRoutes(app, ctx);
  openapiRoutes(app);
  installFallbacks(app, counters);

  const count = () => {
    counters.http_requests++;
    // Watch lines name the connection a request came on; HTTP requests have none (cfd=0).
    setActiveConnection(0);
  };
  // GET /keys/{key} is the hot path: without a token to check, its handler is called directly
  // rather than routed (Hono's routing and context cost a fifth of the throughput there), and the
  // server calls this before it builds a Request at all.
  const plainRead = token !== null ? null : (url: string): Response | PlainAnswer | null => {
    if (!isPlainKeyPath(url)) return null;
    count();
    return readValue(url);
  };
  const fetch: HttpHandler = (request) => {
    if (plainRead !== null && request.method === "GET") {
      const read = plainRead(request.url);
      if (read !== null) return asResponse(read);
    }
    count();
    // The server builds the URL from the path and a Host that passes this same check (else its
    // own address), so the route and the key come from the path alone; a bad Host is refused.
    const host = request.headers.get("host");
    if (host !== null && !HOST.test(host)) {
      return fail(counters, 400, "bad_host", "the Host header is not a host name and port");
    }
    if (request.method === "HEAD") return headOf(app.fetch(asGet(request)));
    return app.fetch(request);
  };
  return { app, fetch, plainRead };
}

/** Characters of a host name, an IPv4 or bracketed IPv6 address, and a port. */
const HOST = /^[A-Za-z0-9.\-:\[\]_]*$/;

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

function asGet(request: Request): Request {
  return new Request(request.url, { method: "GET", headers: request.headers });
}

/** The answer to HEAD: GET's status and headers with the length of the body it would send. */
async function headOf(get: Response | Promise<Response>): Promise<Response> {
  const response = await get;
  const headers = new Headers(response.headers);
  if (response.body !== null) {
    headers.set("content-length", String((await response.arrayBuffer()).byteLength));
  }
  return new Response(null, { status: response.status, headers });
}
