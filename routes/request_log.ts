/**
 * The HTTP request log at -vv: method, path, status, body bytes and milliseconds, one line per
 * request. The path is logged without its query, and headers (the bearer token) never are.
 */
import { getLogger } from "@logtape/logtape";
import type { HttpHandler } from "./app.ts";
import { rawPath } from "./params.ts";
import { isStreaming } from "../src/http_answer.ts";

const requests = getLogger(["memcached", "http"]);

/** Wraps the door's handler so every request leaves one log line once its answer is known. */
export function logRequests(handler: HttpHandler): HttpHandler {
  return async (request) => {
    const started = performance.now();
    const response = await handler(request);
    // A stream is logged when it starts: its length is known only at its end, which may be never.
    const bytes = response.body === null
      ? 0
      : isStreaming(response)
      ? "stream"
      : (await response.clone().arrayBuffer()).byteLength;
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const path = rawPath(request.url);
    requests.trace(`${request.method} ${path} ${response.status} ${bytes} ${ms}ms`, {
      method: request.method,
      path,
      status: response.status,
      bytes,
      ms,
    });
    return response;
  };
}
