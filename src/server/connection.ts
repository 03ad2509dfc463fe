import { freeNow } from "../bytes.ts";
import { connectionClosed, connectionOpened } from "../introspect/connevents.ts";
import { listConnection, unlistConnection } from "../introspect/conns.ts";
import { setActiveConnection } from "../introspect/tap.ts";
import { log } from "../log.ts";
import { nextTurn } from "../introspect/turn.ts";
import { Output } from "../protocol/output.ts";
import type { Session } from "../protocol/session.ts";
import type { SessionFactory } from "../protocol/sessions.ts";
import type { ServerContext } from "../context.ts";

const INITIAL_READ = 16 * 1024;
/** Emptied reads in a row that used a quarter of a grown buffer or less before it is given back. */
const SHRINK_AFTER = 64;

let nextId = 1;
let idStep = 1;

/**
 * Ids for `stats conns` and `cfd=` in watch lines; listeners take theirs from here too. Thread
 * `index` of `threads` hands out index + 1, index + 1 + threads, ...: unique in the process, and
 * (id - 1) % threads names the thread.
 */
export function newConnectionId(): number {
  const id = nextId;
  nextId += idStep;
  return id;
}

export function numberConnections(index: number, threads: number): void {
  nextId = index + 1;
  idStep = threads;
}

/**
 * One client: read what has arrived, let the session answer every complete request, write the
 * answers in one write (one per FLUSH_AT bytes of them), repeat. Reading waits for the write, so a
 * client that stops reading stops being read from instead of filling memory with answers. The
 * read buffer grows past INITIAL_READ only for one request, within --max-inflight.
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
  // The connection leaves the figures when it is closed, whoever closes it (the idle timeout,
  // shutdown): a client that sees the close and asks `stats` must not still be counted.
  let counted = true;
  const uncount = () => {
    if (!counted) return;
    counted = false;
    connectionClosed(ctx, info);
    unlistConnection(ctx, info);
    counters.curr_connections--;
  };
  const info = listConnection(ctx, {
    id: newConnectionId(),
    addr,
    listenAddr,
    state: "conn_parse_cmd",
    lastCommand: ctx.store.clock.now,
    close: () => {
      uncount();
      try {
        conn.close();
      } catch { /* already closed */ }
    },
    write: async (data) => {
      await writeAll(conn, data);
      counters.bytes_written += data.length;
    },
    bufferBytes: () => ({ read: buf.length, output: out.buf.length }),
  });
  connectionOpened(ctx, info);
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
  const limits = ctx.limits;
  let buf = new Uint8Array(INITIAL_READ);
  /** Bytes of `buf` beyond INITIAL_READ: counted in limits.inflightBytes while held. */
  let held = 0;
  const resize = (size: number, from: number, to: number) => {
    const next = new Uint8Array(size);
    next.set(buf.subarray(from, to));
    buf = next;
    const extra = Math.max(0, size - INITIAL_READ);
    limits.hold(extra - held);
    held = extra;
  };
  let smallReads = 0;
  let start = 0;
  let end = 0;
  const out = new Output();
  let session: Session | null = null;
  try {
    while (true) {
      if (end === buf.length) {
        // Full: drop consumed bytes, or grow for one long line (sessions bound its length).
        if (start > 0) {
          buf.copyWithin(0, start, end);
        } else if (limits.canHold(buf.length)) {
          resize(buf.length * 2, 0, end);
        } else {
          log.warn("connection {id}: no memory left for a long request line", { id: info.id });
          break;
        }
        end -= start;
        start = 0;
      }
      if (session?.yielded) {
        // -R: let other connections go first, then go on with what was already read.
        await nextTurn();
      } else if (info.state === "conn_watch") {
        // A watcher only receives: its reads just notice when it leaves (and it is never idle).
        if (await conn.read(buf) === null) break;
        continue;
      } else {
        // In the middle of a value, memcached's state says so.
        info.state = session !== null && session.need > 0 ? "conn_nread" : "conn_waiting";
        const n = await conn.read(end === 0 ? buf : buf.subarray(end));
        if (n === null) break;
        end += n;
        counters.bytes_read += n;
      }
      info.state = "conn_parse_cmd";
      session ??= newSession(info, buf[start]);
      // Past FLUSH_AT of answers a session stops early: write, then let it go on from there.
      let full = true;
      while (full && !session.closing) {
        setActiveConnection(info.id);
        const changes = durability === null ? 0 : durability.changes();
        start = session.consume(buf, start, end, out);
        // The answers are copies: other threads may use the store while this one writes.
        ctx.store.release();
        full = out.full();
        if (session.need > buf.length - start) {
          // Room for the pending request, taken in the turn the session checked
          // limits.canHold(need), so no other connection takes it meanwhile.
          if (session.need <= buf.length) buf.copyWithin(0, start, end);
          else resize(session.need, start, end);
          end -= start;
          start = 0;
        }
        if (out.length > 0) {
          if (durability !== null && durability.changes() !== changes) await durability.wait();
          if (info.state !== "conn_watch") info.state = "conn_mwrite";
          // One write almost always takes it all: writeAll's own promise only for the rest.
          const data = out.view();
          const written = await conn.write(data);
          if (written < data.length) await writeAll(conn, data.subarray(written));
          counters.bytes_written += out.length;
          out.reset();
        }
      }
      if (session.pending) {
        info.state = "conn_mwrite";
        await session.pending;
        session.pending = null;
      }
      if (session.closing) break;
      if (start === end) {
        smallReads = end * 4 <= buf.length ? smallReads + 1 : 0;
        start = end = 0;
        // A grown read buffer is kept while reads keep needing it: giving it back after every big
        // value churned the allocator into tens of MiB of RSS. It counts in --max-inflight while
        // kept, so it goes back once small reads run on, or at once past half of that budget.
        if (
          buf.length > INITIAL_READ * 4 &&
          (smallReads >= SHRINK_AFTER || limits.inflightBytes * 2 > limits.maxInflightBytes)
        ) resize(INITIAL_READ, 0, 0);
      }
    }
  } catch (err) {
    if (!isDisconnect(err)) {
      info.closeReason ??= "error";
      log.warn("connection {id}: {err}", { id: info.id, err: String(err) });
    }
  } finally {
    limits.release(held);
    session?.close?.();
    info.close();
    // A buffer grown for a value that never came whole is given back now, not at the next GC.
    if (buf.length > INITIAL_READ) freeNow(buf);
    log.debug("connection {id} closed", { id: info.id });
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** The peer went away (or the server closed the socket under it): not the server's fault. */
export function isDisconnect(err: unknown): boolean {
  return err instanceof Deno.errors.ConnectionReset ||
    err instanceof Deno.errors.BrokenPipe ||
    err instanceof Deno.errors.BadResource ||
    err instanceof Deno.errors.Interrupted;
}
