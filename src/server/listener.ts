import { encodeAscii } from "../bytes.ts";
import { log } from "../log.ts";
import type { ConnectionInfo, ServerContext } from "../context.ts";
import { newConnectionId, serveConnection } from "./connection.ts";
import type { SessionFactory } from "../protocol/sessions.ts";

const TOO_MANY = encodeAscii("ERROR Too many open connections\r\n");

/** Accepts clients on one listener until it is closed; returns when the accept loop ends. */
export async function acceptLoop(
  ctx: ServerContext,
  listener: Deno.Listener,
  newSession: SessionFactory,
): Promise<void> {
  const listenAddr = describe(listener.addr);
  const inflight = new Set<Promise<void>>();
  // `stats conns` lists listening sockets too, as memcached does.
  const listening: ConnectionInfo = {
    id: newConnectionId(),
    addr: listenAddr,
    listenAddr: "",
    state: "conn_listening",
    lastCommand: ctx.store.clock.now,
    close: () => {},
  };
  ctx.connections.add(listening);
  try {
    for await (const conn of listener) {
      const counters = ctx.store.counters;
      if (counters.curr_connections >= ctx.config.maxConnections) {
        counters.rejected_connections++;
        conn.write(TOO_MANY).catch(() => {}).finally(() => {
          try {
            conn.close();
          } catch { /* gone */ }
        });
        continue;
      }
      const p = serveConnection(ctx, conn, describeClient(conn.remoteAddr), listenAddr, newSession);
      inflight.add(p);
      p.finally(() => inflight.delete(p));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.BadResource)) log.error("accept failed: {err}", { err });
  }
  ctx.connections.delete(listening);
  await Promise.allSettled(inflight);
}

export function describe(addr: Deno.Addr): string {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    return `${addr.transport}:${host}:${addr.port}`;
  }
  return `unix:${(addr as Deno.UnixAddr).path}`;
}

/** A client's address; memcached prints a unix-socket client's unnamed address this way. */
function describeClient(addr: Deno.Addr): string {
  if (addr.transport === "unix" && !(addr as Deno.UnixAddr).path) return "?:<AF 0>";
  return describe(addr);
}

/** Closes connections that sent nothing for `-o idle_timeout` seconds. */
export function startIdleReaper(
  ctx: ServerContext,
): ReturnType<typeof setInterval> | undefined {
  const limit = ctx.config.idleTimeout;
  if (limit <= 0) return undefined;
  const timer = setInterval(() => {
    const now = ctx.store.clock.now;
    for (const conn of ctx.connections) {
      if (conn.state === "conn_waiting" && now - conn.lastCommand > limit) {
        ctx.store.counters.idle_kicks++;
        conn.closeReason = "idle_timeout";
        conn.close();
      }
    }
  }, 1000);
  Deno.unrefTimer(timer);
  return timer;
}
