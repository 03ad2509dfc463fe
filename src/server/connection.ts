import { log } from "../log.ts";
import { Output } from "../protocol/output.ts";
import type { Session } from "../protocol/session.ts";
import type { SessionFactory } from "../protocol/sessions.ts";
import type { ConnectionInfo, ServerContext } from "../context.ts";

const INITIAL_READ = 16 * 1024;

let nextId = 1;

/**
 * One client: read what has arrived, let the session answer every complete request, write the
 * answers in one write, repeat. Reading waits for the write, so a client that stops reading stops
 * being read from instead of filling memory with answers.
 */
export async function serveConnection(
  ctx: ServerContext,
  conn: Deno.Conn,
  addr: string,
  listenAddr: string,
  newSession: SessionFactory,
): Promise<void> {
  const counters = ctx.store.counters;
  // With --fsync always, replies wait until the changes they acknowledge are on disk.
  const durability = ctx.persistence?.durability ?? null;
  const info: ConnectionInfo = {
    id: nextId++,
    addr,
    listenAddr,
    state: "conn_parse_cmd",
    lastCommand: ctx.store.clock.now,
    close: () => {
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
  ctx.connections.add(info);
  counters.curr_connections++;
  counters.total_connections++;
  counters.connection_structures = Math.max(
    counters.connection_structures,
    counters.curr_connections,
  );
  log.debug("connection {id} from {addr}", { id: info.id, addr });

  // Without this, Nagle's algorithm holds back a response while an earlier one is unacknowledged
  // (memcached sets TCP_NODELAY too); it cost a third of the request rate under memaslap.
  if ("setNoDelay" in conn) (conn as Deno.TcpConn).setNoDelay(true);
  let buf = new Uint8Array(INITIAL_READ);
  let start = 0;
  let end = 0;
  const out = new Output();
  let session: Session | null = null;
  try {
    while (true) {
      if (end === buf.length) {
        // Make room: drop consumed bytes, and grow only when one request needs more.
        const pending = end - start;
        const want = Math.max(session?.need ?? 0, pending + 1);
        if (want > buf.length) {
          let size = buf.length * 2;
          while (size < want) size *= 2;
          const bigger = new Uint8Array(size);
          bigger.set(buf.subarray(start, end));
          buf = bigger;
        } else {
          buf.copyWithin(0, start, end);
        }
        start = 0;
        end = pending;
      }
      info.state = "conn_waiting";
      const n = await conn.read(buf.subarray(end));
      if (n === null) break;
      info.state = "conn_parse_cmd";
      end += n;
      counters.bytes_read += n;
      if (session === null) session = newSession(info, buf[start]);
      const changes = durability === null ? 0 : durability.changes();
      start = session.consume(buf, start, end, out);
      if (out.length > 0) {
        if (durability !== null && durability.changes() !== changes) await durability.wait();
        info.state = "conn_mwrite";
        await writeAll(conn, out.view());
        counters.bytes_written += out.length;
        out.reset();
      }
      if (session.closing) break;
      if (start === end) {
        start = end = 0;
        if (buf.length > INITIAL_READ * 4) buf = new Uint8Array(INITIAL_READ);
      }
    }
  } catch (err) {
    if (!isDisconnect(err)) log.warn("connection {id}: {err}", { id: info.id, err: String(err) });
  } finally {
    ctx.connections.delete(info);
    counters.curr_connections--;
    info.close();
    log.debug("connection {id} closed", { id: info.id });
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

function isDisconnect(err: unknown): boolean {
  return err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.BadResource ||
    err instanceof Deno.errors.Interrupted;
}
