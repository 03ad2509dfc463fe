import type { ConnectionInfo, ServerContext } from "../server/context.ts";
import { VERSION } from "../server/context.ts";
import {
  connsStats,
  generalStats,
  itemsStats,
  settingsStats,
  slabsStats,
  type Stat,
} from "../server/report.ts";
import { LARGEST_CLASS } from "../store/classes.ts";
import { markFetched, type Store } from "../store/store.ts";
import { MAX_KEY_LENGTH, type StoreMode, type StoreOutcome } from "../store/types.ts";
import { isKeyHeld, release, REQS_PER_EVENT } from "./held.ts";
import { parseI32, parseU32, parseU64 } from "./numbers.ts";
import type { Output } from "./output.ts";
import type { Session } from "./session.ts";
import { slabsReply } from "./slabs_command.ts";
import { TextAuthGate } from "./text_auth.ts";

/** memcached keeps at most 24 tokens (23 words and a terminator) per command line. */
const MAX_TOKENS = 24;
/** A line without a newline longer than this closes the connection (unless it is a get). */
const MAX_LINE = 2048;
/** Even a multi-get line is not allowed to grow without bound. */
const MAX_GET_LINE = 4 * 1024 * 1024;
/** Returned by a command handler that needs more bytes than the buffer holds. */
export const NEED_MORE = -1;

const SP = 32;
const CR = 13;
const LF = 10;

/**
 * Handles meta commands (mg, ms, md, ma, mn, me) for a text session. Returns the offset after the
 * request, or NEED_MORE. Installed by the meta protocol module.
 */
export type MetaHandler = (
  session: TextSession,
  lineEnd: number,
  next: number,
  end: number,
) => number;
let metaHandler: MetaHandler | null = null;
export function installMetaHandler(handler: MetaHandler): void {
  metaHandler = handler;
}

/**
 * The classic memcached text protocol over one connection. A request line is tokenized in place
 * (token offsets into the read buffer); storage commands wait until their data block is complete.
 */
export class TextSession implements Session {
  need = 0;
  closing = false;
  /** Bytes of a refused value still to be dropped (also set by the meta handler for a refused ms). */
  swallow = 0;
  /** Token i spans buf[tok[2i], tok[2i+1]). */
  readonly tok = new Int32Array(MAX_TOKENS * 2);
  ntok = 0;
  /** True when the line had more words than MAX_TOKENS keeps. */
  truncated = false;
  /**
   * Output length at the last point where memcached would have written its pending responses (a
   * completed get). A failed multi-get discards everything after it, as memcached does.
   */
  flushMark = 0;
  buf: Uint8Array = new Uint8Array(0);
  out!: Output;
  readonly store: Store;

  /** With -Y, requests go to this gate until the client has authenticated. */
  private auth: TextAuthGate | null;

  constructor(readonly ctx: ServerContext, readonly conn: ConnectionInfo | null) {
    this.store = ctx.store;
    this.auth = ctx.config.authFile !== null ? new TextAuthGate(ctx) : null;
  }

  consume(buf: Uint8Array, start: number, end: number, out: Output): number {
    this.buf = buf;
    this.out = out;
    this.need = 0;
    this.flushMark = out.length;
    let requests = -1; // the first command of a read is not counted (see REQS_PER_EVENT)
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
      const next = this.command(pos, lineEnd, nl + 1, end);
      if (next === NEED_MORE) return pos;
      pos = next;
      if (++requests === REQS_PER_EVENT) {
        // memcached writes out what it has after this many requests of one read.
        requests = 0;
        release();
        this.flushMark = out.length;
      }
    }
    return pos;
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

  private startsWith(p: number, end: number, word: string): boolean {
    if (end - p < word.length) return false;
    for (let i = 0; i < word.length; i++) if (this.buf[p + i] !== word.charCodeAt(i)) return false;
    return true;
  }

  /** Splits buf[s, e) on spaces into at most MAX_TOKENS words, as memcached does. */
  tokenize(s: number, e: number): void {
    const b = this.buf;
    const tok = this.tok;
    let n = 0;
    let p = s;
    this.truncated = false;
    while (p < e) {
      while (p < e && b[p] === SP) p++;
      if (p >= e) break;
      if (n === MAX_TOKENS - 1) {
        this.truncated = true;
        break;
      }
      const ts = p;
      while (p < e && b[p] !== SP) p++;
      tok[2 * n] = ts;
      tok[2 * n + 1] = p;
      n++;
    }
    this.ntok = n;
  }

  tokenLength(i: number): number {
    return this.tok[2 * i + 1] - this.tok[2 * i];
  }

  tokenIs(i: number, word: string): boolean {
    const s = this.tok[2 * i];
    if (this.tok[2 * i + 1] - s !== word.length) return false;
    for (let k = 0; k < word.length; k++) if (this.buf[s + k] !== word.charCodeAt(k)) return false;
    return true;
  }

  tokenBytes(i: number): Uint8Array {
    return this.buf.subarray(this.tok[2 * i], this.tok[2 * i + 1]);
  }

  /** memcached's set_noreply_maybe: the last word is "noreply". */
  noreply(): boolean {
    return this.ntok > 0 && this.tokenIs(this.ntok - 1, "noreply");
  }

  /** Writes a one-line reply unless noreply is in force. */
  reply(text: string, quiet: boolean): void {
    if (!quiet) this.out.line(text);
  }

  private command(s: number, e: number, next: number, end: number): number {
    this.tokenize(s, e);
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
      if (metaHandler === null) {
        this.out.line("ERROR");
        return next;
      }
      return metaHandler(this, e, next, end);
    }
    switch (c0) {
      case 103: // g
        if (this.tokenIs(0, "get")) return this.get(e, next, false, false);
        if (this.tokenIs(0, "gets")) return this.get(e, next, true, false);
        if (this.tokenIs(0, "gat")) return this.get(e, next, false, true);
        if (this.tokenIs(0, "gats")) return this.get(e, next, true, true);
        break;
      case 115: // s
        if (this.tokenIs(0, "set")) return this.update("set", next, end);
        if (this.tokenIs(0, "stats")) return this.stats(next);
        if (this.tokenIs(0, "shutdown")) return this.shutdown(next);
        if (this.tokenIs(0, "slabs")) return this.slabs(next);
        break;
      case 97: // a
        if (this.tokenIs(0, "add")) return this.update("add", next, end);
        if (this.tokenIs(0, "append")) return this.update("append", next, end);
        break;
      case 99: // c
        if (this.tokenIs(0, "cas")) return this.update("cas", next, end);
        if (this.tokenIs(0, "cache_memlimit")) return this.memlimit(next);
        break;
      case 105: // i
        if (this.tokenIs(0, "incr")) return this.arith(true, next);
        break;
      case 100: // d
        if (this.tokenIs(0, "delete")) return this.delete(next);
        if (this.tokenIs(0, "decr")) return this.arith(false, next);
        if (this.tokenIs(0, "debugtime") && this.ctx.config.debugTime) return this.debugtime(next);
        break;
      case 116: // t
        if (this.tokenIs(0, "touch")) return this.touch(next);
        break;
      case 114: // r
        if (this.tokenIs(0, "replace")) return this.update("replace", next, end);
        break;
      case 112: // p
        if (this.tokenIs(0, "prepend")) return this.update("prepend", next, end);
        break;
      case 102: // f
        if (this.tokenIs(0, "flush_all")) return this.flushAll(next);
        break;
      case 118: // v
        if (this.tokenIs(0, "version")) {
          this.out.line("VERSION " + VERSION);
          return next;
        }
        if (this.tokenIs(0, "verbosity")) return this.verbosity(next);
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
      return next;
    }
    this.out.line("ERROR");
    return next;
  }

  /** get, gets, gat, gats over any number of keys (not limited to MAX_TOKENS). */
  private get(e: number, next: number, withCas: boolean, touch: boolean): number {
    const out = this.out;
    const store = this.store;
    if (this.ntok < 2) {
      out.line("ERROR");
      return next;
    }
    let exptime = 0;
    let p = this.tok[2];
    if (touch) {
      const t = parseI32(this.buf, this.tok[2], this.tok[3]);
      if (t === null) {
        out.line("CLIENT_ERROR invalid exptime argument");
        return next;
      }
      exptime = t;
      p = this.tok[4];
    }
    const b = this.buf;
    while (p < e) {
      while (p < e && b[p] === SP) p++;
      if (p >= e) break;
      const ks = p;
      while (p < e && b[p] !== SP) p++;
      if (p - ks > MAX_KEY_LENGTH) {
        out.truncate(this.flushMark);
        out.line("CLIENT_ERROR bad command line format");
        return next;
      }
      const key = b.subarray(ks, p);
      const h = touch ? store.touch(key, exptime) : store.get(key);
      if (h === -1) continue;
      const value = store.valueOf(h);
      out.ascii("VALUE ");
      out.bytes(key);
      out.byte(SP);
      out.uint(store.flagsOf(h));
      out.byte(SP);
      out.uint(value.length);
      if (withCas) {
        out.byte(SP);
        out.ascii(store.casOf(h).toString());
      }
      out.crlf();
      out.bytes(value);
      out.crlf();
      markFetched(store, h);
    }
    out.ascii("END\r\n");
    // memcached writes out everything at the end of a get: nothing is held, nothing taken back.
    release();
    this.flushMark = out.length;
    return next;
  }

  /** set/add/replace/append/prepend/cas: the line, then a data block of the stated length. */
  private update(mode: StoreMode, next: number, end: number): number {
    const isCas = mode === "cas";
    const n = this.ntok;
    if (this.truncated || (isCas ? n !== 6 && n !== 7 : n !== 5 && n !== 6)) {
      this.out.line("ERROR");
      return next;
    }
    const quiet = this.noreply();
    const b = this.buf;
    const t = this.tok;
    if (this.tokenLength(1) > MAX_KEY_LENGTH) {
      this.reply("CLIENT_ERROR bad command line format", quiet);
      return next;
    }
    const flags = parseU32(b, t[4], t[5]);
    const exptime = parseI32(b, t[6], t[7]);
    const vlen = parseI32(b, t[8], t[9]);
    if (flags === null || exptime === null || vlen === null) {
      this.reply("CLIENT_ERROR bad command line format", quiet);
      return next;
    }
    let cas = 0n;
    if (isCas) {
      const parsed = parseU64(b, t[10], t[11]);
      if (parsed === null) {
        this.reply("CLIENT_ERROR bad command line format", quiet);
        return next;
      }
      cas = parsed;
    }
    if (vlen < 0) {
      this.reply("CLIENT_ERROR bad command line format", quiet);
      return next;
    }
    const store = this.store;
    if (store.tooLarge(this.tokenLength(1), vlen, flags)) {
      store.counters.store_too_large++;
      this.reply("SERVER_ERROR object too large for cache", quiet);
      // memcached drops the old value of a set that failed, so no stale data survives.
      if (mode === "set") store.discard(this.tokenBytes(1));
      this.swallow = vlen + 2;
      return next;
    }
    const dataEnd = next + vlen;
    if (dataEnd + 2 > end) {
      this.need = dataEnd + 2 - t[0];
      return NEED_MORE;
    }
    if (b[dataEnd] !== CR || b[dataEnd + 1] !== LF) {
      store.counters.cmd_set++; // memcached counts the set before it checks the terminator
      this.reply("CLIENT_ERROR bad data chunk", quiet);
      return dataEnd + 2;
    }
    const outcome = store.store(
      mode,
      this.tokenBytes(1),
      b.subarray(next, dataEnd),
      flags,
      exptime,
      cas,
    );
    this.reply(storeReply(outcome), quiet);
    return dataEnd + 2;
  }

  private arith(incr: boolean, next: number): number {
    const n = this.ntok;
    if (this.truncated || (n !== 3 && n !== 4)) {
      this.out.line("ERROR");
      return next;
    }
    const quiet = this.noreply();
    if (this.tokenLength(1) > MAX_KEY_LENGTH) {
      this.reply("CLIENT_ERROR bad command line format", quiet);
      return next;
    }
    const delta = parseU64(this.buf, this.tok[4], this.tok[5]);
    if (delta === null) {
      this.reply("CLIENT_ERROR invalid numeric delta argument", quiet);
      return next;
    }
    const key = this.tokenBytes(1);
    const held = isKeyHeld(this, this.store, key);
    const outcome = this.store.arith(key, incr, delta, 0n, null, 0, held);
    switch (outcome) {
      case "ok":
        this.reply(this.store.lastNumber.toString(), quiet);
        break;
      case "non_numeric":
        this.reply("CLIENT_ERROR cannot increment or decrement non-numeric value", quiet);
        break;
      case "no_memory":
        this.reply("SERVER_ERROR out of memory", quiet);
        break;
      default:
        this.reply("NOT_FOUND", quiet);
    }
    return next;
  }

  private delete(next: number): number {
    const n = this.ntok;
    if (this.truncated || n < 2 || n > 4) {
      this.out.line("ERROR");
      return next;
    }
    let quiet = false;
    if (n > 2) {
      const holdIsZero = this.tokenIs(2, "0");
      quiet = this.noreply();
      const valid = (n === 3 && (holdIsZero || quiet)) || (n === 4 && holdIsZero && quiet);
      if (!valid) {
        this.reply("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]", quiet);
        return next;
      }
    }
    if (this.tokenLength(1) > MAX_KEY_LENGTH) {
      this.reply("CLIENT_ERROR bad command line format", quiet);
      return next;
    }
    const outcome = this.store.delete(this.tokenBytes(1));
    this.reply(outcome === "deleted" ? "DELETED" : "NOT_FOUND", quiet);
    return next;
  }

  private touch(next: number): number {
    const n = this.ntok;
    if (this.truncated || (n !== 3 && n !== 4)) {
      this.out.line("ERROR");
      return next;
    }
    const quiet = this.noreply();
    if (this.tokenLength(1) > MAX_KEY_LENGTH) {
      this.reply("CLIENT_ERROR bad command line format", quiet);
      return next;
    }
    const exptime = parseI32(this.buf, this.tok[4], this.tok[5]);
    if (exptime === null) {
      this.reply("CLIENT_ERROR invalid exptime argument", quiet);
      return next;
    }
    const h = this.store.touch(this.tokenBytes(1), exptime);
    this.reply(h === -1 ? "NOT_FOUND" : "TOUCHED", quiet);
    return next;
  }

  private flushAll(next: number): number {
    const n = this.ntok;
    if (this.truncated || n > 3) {
      this.out.line("ERROR");
      return next;
    }
    const quiet = this.noreply();
    let delay = 0;
    if (n !== (quiet ? 2 : 1)) {
      const parsed = parseI32(this.buf, this.tok[2], this.tok[3]);
      if (parsed === null) {
        this.store.counters.cmd_flush++;
        this.reply("CLIENT_ERROR invalid exptime argument", quiet);
        return next;
      }
      delay = parsed;
    }
    this.store.flush(delay > 0 ? delay : 0);
    this.reply("OK", quiet);
    return next;
  }

  private verbosity(next: number): number {
    const n = this.ntok;
    if (this.truncated || (n !== 2 && n !== 3)) {
      this.out.line("ERROR");
      return next;
    }
    const quiet = this.noreply();
    const level = parseU32(this.buf, this.tok[2], this.tok[3]);
    if (level === null) {
      this.reply("CLIENT_ERROR bad command line format", quiet);
      return next;
    }
    this.ctx.config.verbosity = Math.min(level, 2);
    this.reply("OK", quiet);
    return next;
  }

  private memlimit(next: number): number {
    const n = this.ntok;
    if (this.truncated || (n !== 2 && n !== 3)) {
      this.out.line("ERROR");
      return next;
    }
    const quiet = this.noreply();
    const mb = parseU32(this.buf, this.tok[2], this.tok[3]);
    if (mb === null) this.reply("ERROR", quiet);
    else if (mb < 8) this.reply("MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m", quiet);
    else if (mb > 1000000000) {
      this.reply("MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes", quiet);
    } else {
      this.store.setMaxBytes(mb * 1024 * 1024);
      this.reply("OK", quiet);
    }
    return next;
  }

  private slabs(next: number): number {
    const words: string[] = [];
    for (let i = 0; i < this.ntok; i++) {
      words.push(String.fromCharCode(...this.buf.subarray(this.tok[2 * i], this.tok[2 * i + 1])));
    }
    const quiet = this.noreply();
    this.reply(slabsReply(quiet ? words.slice(0, -1) : words, LARGEST_CLASS), quiet);
    return next;
  }

  private shutdown(next: number): number {
    if (!this.ctx.config.shutdownEnabled) {
      this.out.line("ERROR: shutdown not enabled");
      return next;
    }
    if (this.ntok === 1 || (this.ntok === 2 && this.tokenIs(1, "graceful"))) {
      this.closing = true;
      this.ctx.requestShutdown();
    } else {
      this.out.line("CLIENT_ERROR invalid shutdown mode");
    }
    return next;
  }

  private debugtime(next: number): number {
    const seconds = this.ntok === 2 ? parseI32(this.buf, this.tok[2], this.tok[3]) : null;
    if (seconds === null) {
      this.out.line("ERROR");
      return next;
    }
    this.store.clock.advance(seconds);
    this.out.line("OK");
    return next;
  }

  private stats(next: number): number {
    const n = this.ntok;
    if (n === 1) return this.statLines(generalStats(this.ctx), next);
    if (this.tokenIs(1, "reset")) {
      this.store.counters.reset();
      this.out.line("RESET");
      return next;
    }
    if (this.tokenIs(1, "detail")) {
      if (n >= 3 && (this.tokenIs(2, "on") || this.tokenIs(2, "off"))) this.out.line("OK");
      else if (n >= 3 && this.tokenIs(2, "dump")) this.out.line("END");
      else this.out.line("CLIENT_ERROR usage: stats detail on|off|dump");
      return next;
    }
    if (this.tokenIs(1, "settings")) return this.statLines(settingsStats(this.ctx), next);
    if (this.tokenIs(1, "items")) return this.statLines(itemsStats(this.ctx), next);
    if (this.tokenIs(1, "slabs")) return this.statLines(slabsStats(this.ctx), next);
    if (this.tokenIs(1, "conns")) return this.statLines(connsStats(this.ctx), next);
    if (this.tokenIs(1, "sizes")) return this.statLines([], next);
    this.out.line("ERROR");
    return next;
  }

  private statLines(lines: Stat[], next: number): number {
    const out = this.out;
    for (const [name, value] of lines) out.line(`STAT ${name} ${value}`);
    out.line("END");
    return next;
  }
}

/** The text protocol's words for a store outcome. */
export function storeReply(outcome: StoreOutcome): string {
  switch (outcome) {
    case "stored":
      return "STORED";
    case "not_stored":
      return "NOT_STORED";
    case "exists":
      return "EXISTS";
    case "not_found":
      return "NOT_FOUND";
    case "too_large":
      return "SERVER_ERROR object too large for cache";
    case "no_memory":
      return "SERVER_ERROR out of memory storing object";
  }
}
