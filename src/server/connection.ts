import { log } from "../log.ts";
import { Output } from "../protocol/output.ts";
import type { Session } from "../protocol/session.ts";
import { TextSession } from "../protocol/text.ts";
import type { ConnectionInfo, ServerContext } from "./context.ts";

const INITIAL_READ = 16 * 1024;
/** Emptied reads in a row that used a quarter of a grown buffer or less before it shrinks. */
const SHRINK_AFTER = 64;
const BINARY_MAGIC = 0x80;

/** Creates the binary protocol session; installed by the binary protocol module. */
export type SessionFactory = (ctx: ServerContext, conn: ConnectionInfo) => Session;
let binaryFactory: SessionFactory | null = null;
export function installBinarySession(factory: SessionFactory): void {
  binaryFactory = factory;
}

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
): Promise<void> {
  const counters = ctx.store.counters;
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
  let smallReads = 0;
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
      if (session === null) session = chooseSession(ctx, info, buf[start]);
      start = session.consume(buf, start, end, out);
      if (out.length > 0) {
        info.state = "conn_mwrite";
        await writeAll(conn, out.view());
        counters.bytes_written += out.length;
        out.reset();
      }
      if (session.closing) break;
      if (start === end) {
        // A grown buffer is kept while reads keep needing it (as Output does, see its reset).
        smallReads = end * 4 <= buf.length ? smallReads + 1 : 0;
        start = end = 0;
        if (buf.length > INITIAL_READ * 4 && smallReads >= SHRINK_AFTER) {
          buf = new Uint8Array(INITIAL_READ);
        }
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

function chooseSession(ctx: ServerContext, info: ConnectionInfo, first: number): Session {
  const protocol = ctx.config.protocol;
  const binary = protocol === "binary" || (protocol === "auto" && first === BINARY_MAGIC);
  if (binary && binaryFactory !== null) return binaryFactory(ctx, info);
  return new TextSession(ctx, info);
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
