/**
 * The text protocol over one connection: the framing loop (lines, data blocks, values to drop),
 * the -Y authentication gate, and the dispatch of each line to a classic or meta command.
 */
import { CR, LF, SP } from "../../bytes.ts";
import { type ConnectionInfo, type ServerContext, VERSION } from "../../context.ts";
import { release } from "../held.ts";
import type { Output } from "../output.ts";
import type { Session } from "../session.ts";
import {
  adminStats,
  lruCommand,
  lruCrawlerCommand,
  refreshCertsCommand,
  watchCommand,
} from "./admin.ts";
import { TextAuthGate } from "./auth.ts";
import {
  arithCommand,
  debugtimeCommand,
  deleteCommand,
  flushAllCommand,
  getCommand,
  memlimitCommand,
  shutdownCommand,
  statsCommand,
  storeCommand,
  touchCommand,
  verbosityCommand,
} from "./classic.ts";
import { CommandLine, NEED_MORE } from "./line.ts";
import { traceAnswer, traceCommand, tracing } from "../../log.ts";
import { metaCommand } from "./meta/dispatch.ts";
import { slabsCommand } from "./slabs.ts";

const latin1 = new TextDecoder("latin1");

/** A line without a newline longer than this closes the connection (unless it is a get). */
const MAX_LINE = 2048;
/** Even a multi-get line is not allowed to grow without bound. */
const MAX_GET_LINE = 4 * 1024 * 1024;

export class TextSession extends CommandLine implements Session {
  /** With -Y, requests go to this gate until the client has authenticated. */
  private auth: TextAuthGate | null;
  /** The connection id for -vv command lines (0 for none, as for UDP). */
  private readonly traceId: number;

  constructor(ctx: ServerContext, conn: ConnectionInfo | null) {
    super(ctx, conn);
    this.traceId = conn?.id ?? 0;
    this.auth = ctx.config.authFile !== null ? new TextAuthGate(ctx) : null;
  }

  consume(buf: Uint8Array, start: number, end: number, out: Output): number {
    this.buf = buf;
    this.out = out;
    this.need = 0;
    this.flushMark = out.length;
    if (this.watching) return end;
    const perEvent = this.ctx.config.reqsPerEvent;
    // As memcached's -R: the first command after a read is free, the next perEvent are counted.
    let requests = this.yielded ? 0 : -1;
    this.yielded = false;
    let pos = start;
    if (this.auth !== null) {
      pos = this.auth.consume(buf, start, end, out);
      this.need = this.auth.need;
      this.closing = this.auth.closing;
      if (!this.auth.authenticated) return pos;
      this.auth = null;
      this.flushMark = out.length;
    }
    while (pos < end && !this.closing) {
      if (this.swallow > 0) {
        const n = Math.min(this.swallow, end - pos);
        this.swallow -= n;
        pos += n;
        continue;
      }
      let nl = buf.indexOf(LF, pos);
      if (nl >= end) nl = -1;
      if (nl === -1) {
        if (end - pos > MAX_LINE && !this.mayGrowLine(pos, end)) this.closing = true;
        return pos;
      }
      const lineEnd = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
      const mark = out.length;
      const next = this.command(pos, lineEnd, nl + 1, end);
      if (next === NEED_MORE) return pos;
      if (this.traceId !== 0 && tracing()) {
        traceCommand(this.traceId, latin1.decode(buf.subarray(pos, lineEnd)));
        // As memcached: meta and stats answers are not logged.
        if (!this.tokenIs(0, "stats") && !(buf[this.tok[0]] === 109 && this.tokenLength(0) === 2)) {
          traceAnswer(this.traceId, out.buf.subarray(mark, out.length));
        }
      }
      pos = next;
      if (out.full()) return pos;
      if (this.pending !== null) {
        // A dump is being streamed: the rest waits for it (the loop consumes again without reading).
        this.yielded = pos < end;
        return pos;
      }
      if (++requests === perEvent) {
        // memcached writes out what it has after this many requests and lets others go first.
        this.store.counters.conn_yields++;
        release();
        this.yielded = pos < end;
        return pos;
      }
    }
    return pos;
  }

  close(): void {
    this.cleanup?.();
    this.cleanup = null;
  }

  /** A long line may keep growing only if it is a multi-get (memcached's rule). */
  private mayGrowLine(pos: number, end: number): boolean {
    if (end - pos > MAX_GET_LINE) return false;
    const b = this.buf;
    let p = pos;
    while (p < end && b[p] === SP) p++;
    if (p - pos > 100) return false;
    return this.startsWith(p, end, "get ") || this.startsWith(p, end, "gets ");
  }

  private command(s: number, lineEnd: number, next: number, end: number): number {
    const e = this.tokenize(s, lineEnd);
    const n = this.ntok;
    if (this.conn !== null) this.conn.lastCommand = this.store.clock.now;
    if (n === 0 || this.tokenLength(0) < 2) {
      this.out.line("ERROR");
      return next;
    }
    const b = this.buf;
    const c0 = b[this.tok[0]];
    const len0 = this.tokenLength(0);
    if (c0 === 109 /* m */ && len0 === 2) {
      return metaCommand(this, next, end);
    }
    switch (c0) {
      case 103: // g
        if (this.tokenIs(0, "get")) return getCommand(this, e, next, false, false);
        if (this.tokenIs(0, "gets")) return getCommand(this, e, next, true, false);
        if (this.tokenIs(0, "gat")) return getCommand(this, e, next, false, true);
        if (this.tokenIs(0, "gats")) return getCommand(this, e, next, true, true);
        break;
      case 115: // s
        if (this.tokenIs(0, "set")) return storeCommand(this, "set", next, end);
        if (this.tokenIs(0, "stats")) return adminStats(this) ? next : statsCommand(this, next);
        if (this.tokenIs(0, "shutdown")) return shutdownCommand(this, next);
        if (this.tokenIs(0, "slabs")) return slabsCommand(this, next);
        break;
      case 97: // a
        if (this.tokenIs(0, "add")) return storeCommand(this, "add", next, end);
        if (this.tokenIs(0, "append")) return storeCommand(this, "append", next, end);
        break;
      case 99: // c
        if (this.tokenIs(0, "cas")) return storeCommand(this, "cas", next, end);
        if (this.tokenIs(0, "cache_memlimit")) return memlimitCommand(this, next);
        break;
      case 105: // i
        if (this.tokenIs(0, "incr")) return arithCommand(this, true, next);
        break;
      case 100: // d
        if (this.tokenIs(0, "delete")) return deleteCommand(this, next);
        if (this.tokenIs(0, "decr")) return arithCommand(this, false, next);
        if (this.tokenIs(0, "debugtime") && this.ctx.config.debugTime) {
          return debugtimeCommand(this, next);
        }
        break;
      case 116: // t
        if (this.tokenIs(0, "touch")) return touchCommand(this, next);
        break;
      case 114: // r
        if (this.tokenIs(0, "replace")) return storeCommand(this, "replace", next, end);
        if (this.tokenIs(0, "refresh_certs")) return refreshCertsCommand(this, next);
        break;
      case 112: // p
        if (this.tokenIs(0, "prepend")) return storeCommand(this, "prepend", next, end);
        break;
      case 102: // f
        if (this.tokenIs(0, "flush_all")) return flushAllCommand(this, next);
        break;
      case 119: // w
        if (this.tokenIs(0, "watch")) return watchCommand(this, next, end);
        break;
      case 108: // l
        if (this.tokenIs(0, "lru_crawler")) return lruCrawlerCommand(this, next);
        if (this.tokenIs(0, "lru")) return lruCommand(this, next);
        break;
      case 118: // v
        if (this.tokenIs(0, "version")) {
          this.out.line("VERSION " + VERSION);
          return next;
        }
        if (this.tokenIs(0, "verbosity")) return verbosityCommand(this, next);
        break;
      case 113: // q
        if (this.tokenIs(0, "quit")) {
          this.closing = true;
          return next;
        }
        break;
    }
    // memcached hangs up on what looks like an HTTP request line.
    if (!this.truncated && this.startsWith(this.tok[2 * (n - 1)], e, "HTTP/")) {
      this.closing = true;
      if (this.conn !== null) this.conn.closeReason = "error";
      return next;
    }
    this.out.line("ERROR");
    return next;
  }
}
