import dgram from "node:dgram";
import type { ServerContext } from "../context.ts";
import { listConnection, unlistConnection } from "../introspect/conns.ts";
import { log } from "../log.ts";
import { setActiveConnection } from "../introspect/tap.ts";
import { Output } from "../protocol/output.ts";
import type { SessionFactory } from "../protocol/sessions.ts";
import { describe } from "./listener.ts";
import { newConnectionId } from "./connection.ts";

/** memcached's frame header: request id, sequence number, datagram count, reserved (0). */
const HEADER = 8;
/** memcached's UDP_MAX_PAYLOAD_SIZE: header and data of one answer datagram. */
const MAX_DATAGRAM = 1400;
const DATA_PER_DATAGRAM = MAX_DATAGRAM - HEADER;
/** The sequence number is 16 bits: an answer longer than this many datagrams is cut. */
const MAX_DATAGRAMS = 0xffff;
/**
 * Answer bytes handed to the socket and not yet sent, all senders together. UDP has no
 * backpressure: past this, datagrams are dropped (as a full socket buffer drops them) and the
 * rest of the request is not answered, so a small datagram asking for a huge answer costs
 * neither unbounded memory nor a long stall of the event loop.
 */
const MAX_PENDING_BYTES = 4 << 20;

/** A UDP socket bound by `bindUdp`, to be served by `serveUdp`. */
export type UdpSocket = dgram.Socket;

/** One bound UDP socket (-U), served until `close`. */
export interface UdpDoor {
  addr: Deno.NetAddr;
  close(): void;
}

/**
 * Binds memcached's UDP door on one address. node:dgram rather than Deno.listenDatagram, which
 * still needs --unstable-net.
 */
export function bindUdp(hostname: string, port: number): Promise<UdpSocket> {
  const socket = dgram.createSocket(hostname.includes(":") ? "udp6" : "udp4");
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => {
      try {
        socket.close();
      } catch { /* never opened */ }
      reject(err);
    };
    socket.once("error", failed);
    socket.bind(port, hostname, () => {
      socket.off("error", failed);
      resolve(socket);
    });
  });
}

/**
 * Serves memcached requests on a bound UDP socket, as memcached does: a datagram is one request
 * (or several pipelined), framed by an 8-byte header; one split across datagrams is dropped. The
 * answer goes back in datagrams of at most 1400 bytes carrying the request's id, their sequence
 * number and their count. Each datagram starts a fresh session (text or binary by its first
 * byte), so nothing a datagram leaves half done carries over to another sender.
 */
export function serveUdp(
  ctx: ServerContext,
  socket: UdpSocket,
  newSession: SessionFactory,
): UdpDoor {
  const counters = ctx.store.counters;
  const bound = socket.address();
  const addr: Deno.NetAddr = { transport: "udp", hostname: bound.address, port: bound.port };
  const info = listConnection(ctx, {
    id: newConnectionId(),
    addr: describe(addr),
    listenAddr: "",
    state: "conn_read",
    lastCommand: ctx.store.clock.now,
    close: () => {},
  });
  counters.curr_connections++;
  const out = new Output();
  let pendingBytes = 0;

  /** Sends what `out` holds as one answer; false once the socket has more than it may queue. */
  const send = (requestId: number, to: dgram.RemoteInfo): boolean => {
    const data = out.view();
    const total = Math.min(Math.ceil(data.length / DATA_PER_DATAGRAM), MAX_DATAGRAMS);
    for (let seq = 0; seq < total; seq++) {
      const chunk = data.subarray(seq * DATA_PER_DATAGRAM, (seq + 1) * DATA_PER_DATAGRAM);
      if (pendingBytes + HEADER + chunk.length > MAX_PENDING_BYTES) break;
      const datagram = new Uint8Array(HEADER + chunk.length);
      datagram[0] = requestId >> 8;
      datagram[1] = requestId & 0xff;
      datagram[2] = seq >> 8;
      datagram[3] = seq & 0xff;
      datagram[4] = total >> 8;
      datagram[5] = total & 0xff;
      datagram.set(chunk, HEADER);
      pendingBytes += datagram.length;
      counters.bytes_written += datagram.length;
      // A datagram the network loses is lost, as UDP may; nothing to retry.
      socket.send(datagram, to.port, to.address, () => (pendingBytes -= datagram.length));
    }
    out.reset();
    return pendingBytes < MAX_PENDING_BYTES / 2;
  };

  socket.on("message", (msg: Uint8Array, from: dgram.RemoteInfo) => {
    if (msg.length <= HEADER) return;
    counters.bytes_read += msg.length;
    info.lastCommand = ctx.store.clock.now;
    if (msg[4] !== 0 || msg[5] !== 1) return; // a request in several datagrams: not supported
    const requestId = (msg[0] << 8) | msg[1];
    setActiveConnection(info.id);
    const session = newSession(info, msg[HEADER]);
    try {
      let pos = HEADER;
      // -R yields stop a session early: a datagram is still answered whole.
      while (pos < msg.length && !session.closing) {
        const next = session.consume(msg, pos, msg.length, out);
        // Past FLUSH_AT the answer so far goes out as a message of its own (memcached, too,
        // numbers each response on its own), so a long multi-get is not built whole.
        if (out.full()) {
          if (!send(requestId, from)) break;
        } else if (next === pos) break; // the rest is an incomplete request
        pos = next;
      }
      if (out.length > 0) send(requestId, from);
    } catch (err) {
      out.reset();
      log.warn("UDP request from {addr} failed: {err}", { addr: from.address, err: String(err) });
    } finally {
      session.close?.();
    }
  });
  socket.on("error", (err: Error) => {
    log.warn("UDP socket {addr}: {err}", { addr: info.addr, err: String(err) });
  });

  return {
    addr,
    close: () => {
      unlistConnection(ctx, info);
      counters.curr_connections--;
      try {
        socket.close();
      } catch { /* already closed */ }
    },
  };
}
