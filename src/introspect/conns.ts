/**
 * Every thread's connections at -t N, for `stats conns` and the buffer figures of `stats`: a fixed
 * table in shared memory with a slot per connection (listeners and the UDP socket too). The thread
 * that owns a connection writes its slot when it opens, changes state or takes a command, and frees
 * it when it closes; a thread answering `stats conns` reads the other threads' slots, and its own
 * connections as they are. Nothing is asked of another thread, so a busy one cannot hold up the
 * answer. At -t 1 there is no table: the connections are all the answering thread's.
 */
import type { ConnectionInfo, ConnectionList, ConnectionRow, ServerContext } from "../context.ts";
import { lock, unlock } from "./mutex.ts";

/** memcached's connection states, by number. */
const STATES = [
  "conn_listening",
  "conn_new_cmd",
  "conn_waiting",
  "conn_read",
  "conn_parse_cmd",
  "conn_write",
  "conn_nread",
  "conn_swallow",
  "conn_closing",
  "conn_mwrite",
  "conn_closed",
  "conn_watch",
];

// A slot's Int32 cells: a cache line, so that slots of two threads never share one.
const CELLS = 16;
/** 1 while listed. */
const STATUS = 0;
/** Moves when the slot is taken and when it is freed: a reader that sees it move drops the row. */
const SEQ = 1;
const ID = 2;
const THREAD = 3;
const STATE = 4;
/** lastCommand, in seconds from the clock's start. */
const LAST = 5;
const READ = 6;
const OUTPUT = 7;
/** 1 for a client connection, which has read and output buffers. */
const BUFFERS = 8;
const ADDR_LENGTH = 9;
const LISTEN_LENGTH = 10;
// The header's cells: the lock, slots ever taken, freed slots on the stack, connections unlisted.
const LOCK = 0;
const TAKEN = 1;
const FREED = 2;
const UNLISTED = 3;
/** Bytes kept of an address (a unix socket path is at most 108). */
const TEXT = 128;
/** Slots beyond -c for listeners, the UDP socket and the few clients two threads may admit at once. */
export const SPARE_SLOTS = 256;

export class ConnectionTable implements ConnectionList {
  private readonly cells: Int32Array;
  private readonly free: Int32Array;
  private readonly text: Uint8Array;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();

  static bytes(capacity: number): number {
    return (CELLS + capacity * CELLS + capacity) * 4 + capacity * 2 * TEXT;
  }

  constructor(
    buffer: SharedArrayBuffer,
    readonly capacity: number,
    private readonly thread: number,
    /** The clock's start, shared by every thread: lastCommand is kept from there. */
    private readonly started: number,
  ) {
    this.cells = new Int32Array(buffer, 0, CELLS + capacity * CELLS);
    this.free = new Int32Array(buffer, (CELLS + capacity * CELLS) * 4, capacity);
    this.text = new Uint8Array(buffer, (CELLS + capacity * CELLS + capacity) * 4);
  }

  /** Connections that found the table full: they are missing from other threads' lists. */
  get unlisted(): number {
    return Atomics.load(this.cells, UNLISTED);
  }

  /** Lists `info` for the other threads: the connection to use from now on, which keeps it so. */
  list(info: ConnectionInfo): ConnectionInfo {
    const slot = this.take();
    if (slot === -1) {
      Atomics.add(this.cells, UNLISTED, 1);
      return info;
    }
    const c = this.cells;
    const at = CELLS + slot * CELLS;
    Atomics.add(c, at + SEQ, 1);
    c[at + ID] = info.id;
    c[at + THREAD] = this.thread;
    c[at + BUFFERS] = info.bufferBytes === undefined ? 0 : 1;
    c[at + ADDR_LENGTH] = this.write(slot * 2, info.addr);
    c[at + LISTEN_LENGTH] = this.write(slot * 2 + 1, info.listenAddr);
    const listed = new ListedConnection(this, at, info);
    Atomics.store(c, at + STATUS, 1);
    return listed;
  }

  /** Frees the slot of a connection that closed. */
  unlist(info: ConnectionInfo): void {
    if (!(info instanceof ListedConnection)) return;
    const at = info.at;
    Atomics.store(this.cells, at + STATUS, 0);
    Atomics.add(this.cells, at + SEQ, 1);
    lock(this.cells, LOCK);
    this.free[this.cells[FREED]++] = (at - CELLS) / CELLS;
    unlock(this.cells, LOCK);
  }

  /** A freed slot (the latest first, so memory in use follows the connections open), or -1. */
  private take(): number {
    const c = this.cells;
    lock(c, LOCK);
    let slot = -1;
    if (c[FREED] > 0) slot = this.free[--c[FREED]];
    else if (c[TAKEN] < this.capacity) slot = c[TAKEN]++;
    unlock(c, LOCK);
    return slot;
  }

  private write(field: number, text: string): number {
    const target = this.text.subarray(field * TEXT, (field + 1) * TEXT);
    // A copy first: TextEncoder does not write into shared memory.
    const bytes = this.encoder.encode(text).subarray(0, TEXT);
    target.set(bytes);
    return bytes.length;
  }

  private read(field: number, length: number): string {
    return this.decoder.decode(this.text.slice(field * TEXT, field * TEXT + length));
  }

  /** The connections the other threads have listed, as their slots show them now. */
  others(): ConnectionRow[] {
    const c = this.cells;
    const rows: ConnectionRow[] = [];
    const taken = Atomics.load(c, TAKEN);
    for (let slot = 0; slot < taken; slot++) {
      const at = CELLS + slot * CELLS;
      const seq = Atomics.load(c, at + SEQ);
      if (Atomics.load(c, at + STATUS) !== 1 || Atomics.load(c, at + THREAD) === this.thread) {
        continue;
      }
      const row: ConnectionRow = {
        id: Atomics.load(c, at + ID),
        addr: this.read(slot * 2, Atomics.load(c, at + ADDR_LENGTH)),
        listenAddr: this.read(slot * 2 + 1, Atomics.load(c, at + LISTEN_LENGTH)),
        state: STATES[Atomics.load(c, at + STATE)] ?? "conn_parse_cmd",
        lastCommand: this.started + Atomics.load(c, at + LAST),
        buffers: Atomics.load(c, at + BUFFERS) === 1
          ? { read: Atomics.load(c, at + READ), output: Atomics.load(c, at + OUTPUT) }
          : null,
      };
      // Freed (and maybe taken again) while being read: not a row of one connection.
      if (Atomics.load(c, at + SEQ) === seq && Atomics.load(c, at + STATUS) === 1) rows.push(row);
    }
    return rows;
  }

  /** The owner's writes: plain stores, each a whole Int32 (never torn). */
  setState(at: number, state: string, buffers: (() => { read: number; output: number }) | null) {
    const c = this.cells;
    c[at + STATE] = STATES.indexOf(state);
    // The buffers change size between batches: noted when a connection waits for the next.
    if (buffers !== null && (state === "conn_waiting" || state === "conn_nread")) {
      const b = buffers();
      c[at + READ] = b.read;
      c[at + OUTPUT] = b.output;
    }
  }

  setLastCommand(at: number, seconds: number): void {
    this.cells[at + LAST] = seconds - this.started;
  }
}

/** A connection listed in the table: its state and last command are written through to its slot. */
class ListedConnection implements ConnectionInfo {
  readonly id: number;
  readonly addr: string;
  readonly listenAddr: string;
  readonly close: () => void;
  readonly write?: (data: Uint8Array) => Promise<void>;
  readonly bufferBytes?: () => { read: number; output: number };
  closeReason?: ConnectionInfo["closeReason"];
  private current: string;
  private last: number;

  constructor(private readonly table: ConnectionTable, readonly at: number, info: ConnectionInfo) {
    this.id = info.id;
    this.addr = info.addr;
    this.listenAddr = info.listenAddr;
    this.close = info.close;
    this.write = info.write;
    this.bufferBytes = info.bufferBytes;
    this.current = info.state;
    this.last = info.lastCommand;
    table.setState(at, info.state, null);
    table.setLastCommand(at, info.lastCommand);
  }

  get state(): string {
    return this.current;
  }
  set state(state: string) {
    this.current = state;
    this.table.setState(this.at, state, this.bufferBytes ?? null);
  }

  get lastCommand(): number {
    return this.last;
  }
  set lastCommand(seconds: number) {
    if (seconds === this.last) return;
    this.last = seconds;
    this.table.setLastCommand(this.at, seconds);
  }
}

/** A connection opens: it joins `stats conns`. Use what this returns as the connection. */
export function listConnection(ctx: ServerContext, info: ConnectionInfo): ConnectionInfo {
  const listed = ctx.connectionTable?.list(info) ?? info;
  ctx.connections.add(listed);
  return listed;
}

/** A connection closed: it leaves `stats conns`. */
export function unlistConnection(ctx: ServerContext, info: ConnectionInfo): void {
  ctx.connections.delete(info);
  ctx.connectionTable?.unlist(info);
}
