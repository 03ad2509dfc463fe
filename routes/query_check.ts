/**
 * Unknown or repeated query parameters answer 400 naming them (`?tll=300` would otherwise store
 * forever). What each route takes is read from the OpenAPI document, so the two cannot disagree.
 */
import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { Query } from "./params.ts";

interface Taken {
  names: ReadonlySet<string>;
  /** Parameters described as arrays (`key` of a multi-get) may be given more than once. */
  repeatable: ReadonlySet<string>;
}

interface Parameter {
  name: string;
  in: string;
  schema?: { type?: string };
}

/** "GET /keys/:key" -> the query parameters that route takes, from an OpenAPI 3 document. */
function takenByRoute(openapi: { paths: Record<string, unknown> }): Map<string, Taken> {
  const out = new Map<string, Taken>();
  for (const [path, operations] of Object.entries(openapi.paths)) {
    const honoPath = path.replace(/\{(\w+)\}/g, ":$1");
    for (const [method, op] of Object.entries(operations as Record<string, unknown>)) {
      const params = ((op as { parameters?: Parameter[] }).parameters ?? [])
        .filter((p) => p.in === "query");
      out.set(`${method.toUpperCase()} ${honoPath}`, {
        names: new Set(params.map((p) => p.name)),
        repeatable: new Set(params.filter((p) => p.schema?.type === "array").map((p) => p.name)),
      });
    }
  }
  return out;
}

/** Middleware refusing query parameters the matched route does not take, or takes only once. */
export function checkQuery(openapi: { paths: Record<string, unknown> }): MiddlewareHandler {
  const taken = takenByRoute(openapi);
  return async (c, next) => {
    const url = c.req.raw.url;
    if (url.includes("?")) {
      const method = c.req.method === "HEAD" ? "GET" : c.req.method;
      const route = taken.get(`${method} ${routePath(c, -1)}`);
      if (route !== undefined) new Query(url).check(route.names, route.repeatable);
    }
    await next();
  };
}
