import { encodeAscii } from "../bytes.ts";
import { log } from "../log.ts";
import type { ServerContext } from "../context.ts";
import { listConnection, unlistConnection } from "../introspect/conns.ts";
import { isDisconnect, newConnectionId, serveConnection } from "./connection.ts";
import { outOfDescriptors, SpareDescriptor } from "./descriptors.ts";
import type { SessionFactory } from "../protocol/sessions.ts";

const TOO_MANY = encodeAscii("ERROR Too many open connections\r\n");
/** A refused client gets this long to take its error line before its descriptor is closed. */
const REJECT_WRITE_MS = 100;
/** After an accept error that may repeat at once (out of descriptors), wait before the next. */
const ACCEPT_BACKOFF_MS = 50;

/**
 * Accepts memcached clients on one listener until it is closed; returns when the accept loop ends
 * and every connection it accepted has finished. Beyond -c, a client gets memcached's error.
 */
export async function acceptLoop(
  ctx: ServerContext,
  listener: Deno.Listener,
  newSession: SessionFactory,
): Promise<void> {
  const listenAddr = describe(listener.addr);
  // `stats conns` lists listening sockets too, as memcached does.
  const listening = listConnection(ctx, {
    id: newConnectionId(),
    addr: listenAddr,
    listenAddr: "",
    state: "conn_listening",
    lastCommand: ctx.store.clock.now,
    close: () => {},
  });
  const counters = ctx.store.counters;
  const limits = ctx.limits;
  const refuse = (conn: Deno.Conn) => {
    counters.rejected_connections++;
    reject(conn, TOO_MANY);
  };
  await acceptAll(ctx, listener, (conn) => {
    // Beyond -c (every thread's clients), or beyond the descriptors left for clients of both doors.
    if (ctx.store.total("curr_connections") >= ctx.config.maxConnections || !limits.admitClient()) {
      return refuse(conn);
    }
    return serveConnection(ctx, conn, describeClient(conn.remoteAddr), listenAddr, newSession)
      .finally(() => limits.releaseClient());
  }, refuse);
  unlistConnection(ctx, listening);
}

/**
 * Accepts on `listener` until it is closed and hands each connection to `admit`, which serves it
 * (returning when it ends) or refuses it. Returns once every admitted connection has finished.
 * Only closing the listener ends it: an error of one connection (reset before accept, out of
 * descriptors, a throw in `admit`) is logged, counted and survived. Out of descriptors, a spare
 * one lets the waiting client in to be told so by `refuse`.
 */
export async function acceptAll(
  ctx: ServerContext,
  listener: Deno.Listener,
  admit: (conn: Deno.Conn) => Promise<void> | void,
  refuse: (conn: Deno.Conn) => void,
): Promise<void> {
  const listenAddr = describe(listener.addr);
  const inflight = new Set<Promise<void>>();
  const counters = ctx.store.counters;
  const spare = new SpareDescriptor();
  let failing = false;
  for (;;) {
    let conn: Deno.Conn;
    try {
      conn = await listener.accept();
    } catch (err) {
      if (err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted) break;
      if (outOfDescriptors(err) && spare.give()) {
        try {
          refuse(await listener.accept());
        } catch { /* gone meanwhile */ }
        spare.take();
        continue;
      }
      // The connection is lost, not the listener: a reset before accept (NotConnected,
      // ConnectionAborted) or no descriptor left for it (EMFILE, which repeats until one
      // closes). Count and log it once per run of failures, and keep accepting.
      if (!failing) {
        counters.rejected_connections++;
        log.warn("accept failed on {addr}: {err}", { addr: listenAddr, err: String(err) });
      }
      failing = true;
      // A reset costs only its own connection: go on at once, or the rest of the backlog waits.
      if (!isResetBeforeAccept(err)) await new Promise((r) => setTimeout(r, ACCEPT_BACKOFF_MS));
      continue;
    }
    failing = false;
    const failed = (err: unknown) => {
      // A client that leaves mid-answer (`curl ... | head`) is a -v connection event, not a warning.
      if (isDisconnect(err)) {
        log.debug("connection on {addr} closed by the client: {err}", {
          addr: listenAddr,
          err: String(err),
        });
      } else log.warn("connection on {addr} failed: {err}", { addr: listenAddr, err: String(err) });
      close(conn);
    };
    let p: Promise<void> | void;
    try {
      p = admit(conn);
    } catch (err) {
      failed(err);
      continue;
    }
    if (p === undefined) continue;
    const served = p.catch(failed);
    inflight.add(served);
    served.finally(() => inflight.delete(served));
  }
  spare.close();
  await Promise.allSettled(inflight);
}

function isResetBeforeAccept(err: unknown): boolean {
  return err instanceof Deno.errors.NotConnected || err instanceof Deno.errors.ConnectionAborted ||
    err instanceof Deno.errors.ConnectionReset;
}

/** A refusal written without waiting (memcached's over -c): the descriptor closes soon either way. */
export function reject(conn: Deno.Conn, answer: Uint8Array): void {
  const timer = setTimeout(() => close(conn), REJECT_WRITE_MS);
  conn.write(answer).catch(() => {}).finally(() => {
    clearTimeout(timer);
    close(conn);
  });
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
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
