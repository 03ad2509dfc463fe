/**
 * The HTTP door's error shape and its guards: JSON `{ error, message }` with the right status,
 * bearer-token authentication, and 405 (with `Allow`) for a known path with the wrong method.
 */
import { constantTimeEqual } from "../src/auth.ts";
import type { Context, Hono, MiddlewareHandler } from "hono";
import type { Counters } from "../src/stats.ts";
import type { PlainAnswer } from "../src/http_answer.ts";
import { BadParameter, rawPath, Refused } from "./params.ts";

/**
 * Error codes that are outcomes of a well-formed request (a miss, a moved CAS, a non-numeric value):
 * they answer the question asked. Every other error counts in `http_errors`.
 */
const OUTCOMES = new Set(["not_found", "precondition_failed", "not_numeric"]);

/** An error response in the door's one shape. */
export function fail(
  counters: Counters,
  status: number,
  error: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  if (!OUTCOMES.has(error)) counters.http_errors++;
  return new Response(JSON.stringify({ error, message }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/**
 * An error in the door's shape as a PlainAnswer, for one built once and answered often. Only for
 * outcomes (OUTCOMES): nothing counts it in `http_errors`.
 */
export function plainError(status: number, error: string, message: string): PlainAnswer {
  return {
    status,
    headers: [["content-type", "application/json"]],
    body: new TextEncoder().encode(JSON.stringify({ error, message })),
  };
}

/** A Response for an answer the server could also write without one (the Response copies it). */
export function asResponse(answer: Response | PlainAnswer): Response {
  if (answer instanceof Response) return answer;
  // A Response takes no view of shared memory: the body is copied.
  return new Response(answer.body.slice(), { status: answer.status, headers: answer.headers });
}

/** Plain JSON success response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

const encoder = new TextEncoder();

/** Every route but `/health` needs `Authorization: Bearer <token>`. */
export function requireToken(token: string, counters: Counters): MiddlewareHandler {
  const expected = encoder.encode(token);
  return async (c, next) => {
    if (c.req.path === "/health") return await next();
    const header = c.req.raw.headers.get("authorization") ?? "";
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (m === null || constantTimeEqual(encoder.encode(m[1]), expected) !== 1) {
      return fail(
        counters,
        401,
        "unauthorized",
        "this server needs an Authorization: Bearer <token> header",
        { "www-authenticate": 'Bearer realm="memcached"' },
      );
    }
    await next();
  };
}

/**
 * The not-found handler: a path that some route serves under another method is 405 with `Allow`;
 * `/keys/` with an empty key is a bad key; anything else is an unknown route.
 */
export function installFallbacks(app: Hono, counters: Counters): void {
  let patterns: { re: RegExp; methods: Set<string> }[] | null = null;
  const compile = () => {
    const byPath = new Map<string, Set<string>>();
    for (const r of app.routes) {
      if (r.method === "ALL" || r.path.includes("*")) continue;
      const set = byPath.get(r.path) ?? new Set<string>();
      set.add(r.method);
      if (r.method === "GET") set.add("HEAD");
      byPath.set(r.path, set);
    }
    return [...byPath].map(([path, methods]) => ({
      re: new RegExp("^" + path.replace(/:[A-Za-z]+/g, "[^/]+") + "$"),
      methods,
    }));
  };
  app.notFound((c: Context) => {
    const path = rawPath(c.req.raw.url);
    if (/^\/keys\/(\/|$)/.test(path)) {
      return fail(counters, 400, "bad_key", "the key is empty");
    }
    patterns ??= compile();
    const allowed = new Set<string>();
    for (const p of patterns) if (p.re.test(path)) { for (const m of p.methods) allowed.add(m); }
    if (allowed.size > 0) {
      const allow = [...allowed].join(", ");
      return fail(counters, 405, "method_not_allowed", `${c.req.method} is not one of ${allow}`, {
        allow,
      });
    }
    const slash = path.startsWith("/keys/")
      ? " (a key containing / is written %2F: /keys/a%2Fb)"
      : "";
    return fail(counters, 404, "no_route", `no route for ${c.req.method} ${path}${slash}`);
  });
  app.onError((err) => {
    if (err instanceof BadParameter) return fail(counters, 400, "bad_parameter", err.message);
    if (err instanceof Refused) return fail(counters, err.status, err.code, err.message);
    return fail(counters, 500, "internal", err instanceof Error ? err.message : String(err));
  });
}
