/**
 * The HTTP door's transport: our own HTTP/1.1 server over a TCP listener, because Deno.serve has
 * no header, idle or write timeouts (denoland/deno#3515) and cannot bound the connections it
 * keeps. Connections are counted (--http-conn-limit, 503 beyond it) and a reaper closes those
 * that sit too long in one phase: idle between requests (--http-idle-timeout), a head still
 * arriving or an answer the client does not take (--http-timeout).
 */
import type { ServerContext } from "../../context.ts";
import { log } from "../../log.ts";
import { acceptAll } from "../listener.ts";
import { type Handler, HttpConnection } from "./connection.ts";
import { errorResponse } from "./response.ts";

export interface HttpServer {
  addr: Deno.NetAddr;
  /** Stops accepting and closes idle connections; resolves when every connection has ended. */
  shutdown(): Promise<void>;
  /** Closes every connection now (the end of the shutdown grace). */
  closeAll(): void;
}

/** How long a refused client gets to send its request and take its 503. */
const REFUSE_LINGER_MS = 1000;

export function serveHttp(
  ctx: ServerContext,
  listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>,
  handler: Handler,
): HttpServer {
  const config = ctx.config;
  const counters = ctx.store.counters;
  const open = new Set<HttpConnection>();
  let stopping = false;
  const addr = listener.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const hooks = {
    origin: `${host}:${addr.port}`,
    stopping: () => stopping,
    refused: () => counters.http_errors++,
    copied: () => ctx.store.release(),
  };
  const full = errorResponse(
    503,
    "too_many_connections",
    `this server keeps at most ${config.httpConnLimit} HTTP connections (--http-conn-limit)`,
  );
  const noDescriptor = errorResponse(
    503,
    "too_many_connections",
    "no descriptor is left for another connection (ulimit -n)",
  );
  const turnAway = (conn: Deno.Conn, answer: Uint8Array) => {
    counters.rejected_connections++;
    counters.http_errors++;
    refuse(conn, answer);
  };
  const accepting = acceptAll(ctx, listener, (conn) => {
    if (!ctx.limits.openHttp(config.httpConnLimit)) return turnAway(conn, full);
    if (!ctx.limits.admitClient()) {
      ctx.limits.closeHttp();
      return turnAway(conn, noDescriptor);
    }
    (conn as Deno.TcpConn).setNoDelay(true);
    const c = new HttpConnection(conn, hooks);
    open.add(c);
    // A closing connection stops counting against --http-conn-limit: it lingers at most a second
    // (finish), its descriptor counted until it is closed.
    return c.serve(handler).finally(() => {
      open.delete(c);
      ctx.limits.closeHttp();
      return c.finish().finally(() => ctx.limits.releaseClient());
    });
  }, (conn) => turnAway(conn, noDescriptor));

  const idleTicks = Math.ceil(config.httpIdleTimeoutMs / 1000);
  const busyTicks = Math.ceil(config.httpTimeoutMs / 1000);
  const reaper = setInterval(() => {
    for (const c of open) {
      c.ticks++;
      // A streamed answer may be quiet for long (a watch): only a write the client does not
      // take counts while answering.
      const limit = c.writing || c.phase === "head"
        ? busyTicks
        : c.phase === "idle"
        ? idleTicks
        : Infinity;
      if (c.ticks > limit) {
        log.debug("HTTP connection closed: {phase} for {s} s", { phase: c.phase, s: c.ticks });
        c.close();
      }
    }
  }, 1000);
  Deno.unrefTimer(reaper);

  return {
    addr,
    async shutdown() {
      stopping = true;
      listener.close();
      for (const c of open) if (c.phase === "idle") c.close();
      await accepting;
      clearInterval(reaper);
    },
    closeAll() {
      for (const c of open) c.close();
    },
  };
}

/**
 * Answers a refused client once its request begins (an answer sent before it would be a message
 * the client never asked for), then takes what it sends for a moment before closing: closing
 * with its request unread would reset the connection, and the reset can destroy the answer. At
 * most MAX_REFUSING clients wait so; beyond that they are closed at once.
 */
function refuse(conn: Deno.Conn, answer: Uint8Array): void {
  if (refusing >= MAX_REFUSING) return close(conn);
  refusing++;
  const scratch = new Uint8Array(4096);
  const timer = setTimeout(() => close(conn), REFUSE_LINGER_MS);
  (async () => {
    if (await conn.read(scratch) === null) return;
    await conn.write(answer);
    while (await conn.read(scratch) !== null) { /* discard */ }
  })().catch(() => {}).finally(() => {
    refusing--;
    clearTimeout(timer);
    close(conn);
  });
}

let refusing = 0;
/** Well within the descriptors the server keeps in reserve (RESERVED_DESCRIPTORS). */
const MAX_REFUSING = 32;

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
