/**
 * What every HTTP request passes before the door: a bound on requests handled at once
 * (--http-conn-limit, 503 beyond it) and a Host header that cannot move the path (Deno builds the
 * request URL from it, so `Host: x/keys/secret?` would turn `/health` into a read of `secret`).
 */
import type { ServerContext } from "../src/context.ts";
import type { HttpHandler } from "./app.ts";
import { fail } from "./errors.ts";

/** Characters of a host name, an IPv4 or bracketed IPv6 address, and a port. */
const HOST = /^[A-Za-z0-9.\-:\[\]_]*$/;

export function guardHttp(ctx: ServerContext, handler: HttpHandler): HttpHandler {
  const limits = ctx.limits;
  const max = ctx.config.httpConnLimit;
  const counters = ctx.store.counters;
  const done = () => {
    limits.httpOpen--;
  };
  return (request, info) => {
    const host = request.headers.get("host");
    if (host !== null && !HOST.test(host)) {
      return fail(counters, 400, "bad_host", "the Host header is not a host name and port");
    }
    if (limits.httpOpen >= max) {
      counters.rejected_connections++;
      return fail(
        counters,
        503,
        "too_many_requests_in_flight",
        `this server handles at most ${max} HTTP requests at once (--http-conn-limit)`,
        { "retry-after": "1" },
      );
    }
    limits.httpOpen++;
    let response;
    try {
      response = handler(request, info);
    } catch (err) {
      done();
      throw err;
    }
    if (response instanceof Promise) return response.finally(done);
    done();
    return response;
  };
}
