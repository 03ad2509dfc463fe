/**
 * What every HTTP request passes before the door: a bound on requests handled at once
 * (--http-conn-limit, 503 beyond it). The Host header is checked in the door (app.ts).
 */
import type { ServerContext } from "../src/context.ts";
import type { HttpHandler } from "./app.ts";
import { fail } from "./errors.ts";

export function guardHttp(ctx: ServerContext, handler: HttpHandler): HttpHandler {
  const limits = ctx.limits;
  const max = ctx.config.httpConnLimit;
  const counters = ctx.store.counters;
  const done = () => {
    limits.httpOpen--;
  };
  return (request, info) => {
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
