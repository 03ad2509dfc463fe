/**
 * Text protocol authentication (`-Y FILE`), as memcached does it: until a client has
 * authenticated, the only request it may send is `set <any> <any> <any> <len>\r\n<user> <pass>\r\n`.
 * Anything else is answered `CLIENT_ERROR unauthenticated`.
 */
import { passwordFile } from "../../auth.ts";
import { bytesEqualAscii, LF, SP } from "../../bytes.ts";
import { log } from "../../log.ts";
import type { ServerContext } from "../../context.ts";
import { parseU32 } from "../numbers.ts";
import type { Output } from "../output.ts";

/** A line without a newline longer than this closes the connection. */
const MAX_LINE = 2048;
/** memcached reads the credentials into its 16 KB read buffer; more than that closes. */
const MAX_CREDENTIALS = 16384;

export class TextAuthGate {
  authenticated = false;
  closing = false;
  /** Bytes the pending request needs from its first byte, when known. */
  need = 0;
  private readonly tok = new Int32Array(12);
  private ntok = 0;

  constructor(private readonly ctx: ServerContext) {}

  /** Answers authentication requests in buf[start, end) until the client is in or data runs out. */
  consume(buf: Uint8Array, start: number, end: number, out: Output): number {
    this.need = 0;
    // memcached answers every unauthenticated request in one reused response slot, so of
    // several sent together only the last answer reaches the client.
    let replyMark = -1;
    const reply = (line: string) => {
      if (replyMark !== -1) out.truncate(replyMark);
      replyMark = out.length;
      out.line(line);
    };
    let pos = start;
    while (pos < end && !this.authenticated && !this.closing) {
      if (end - pos < 2) return pos;
      let nl = buf.indexOf(LF, pos);
      if (nl >= end) nl = -1;
      if (nl === -1) {
        if (end - pos > MAX_LINE) this.closing = true;
        return pos;
      }
      // The CR stays in the last word, as in memcached; the number parser allows it.
      this.tokenize(buf, pos, nl);
      const size = this.ntok >= 5 && this.tokenIs(buf, 0, "set")
        ? parseU32(buf, this.tok[8], this.tok[9])
        : null;
      if (size === null) {
        reply("CLIENT_ERROR unauthenticated");
        pos = nl + 1;
        continue;
      }
      if (size + 2 > MAX_CREDENTIALS) {
        this.closing = true;
        return end;
      }
      const dataAt = nl + 1;
      const dataEnd = dataAt + size + 2;
      if (dataEnd > end) {
        this.need = dataEnd - pos;
        return pos;
      }
      pos = dataEnd;
      if (buf[dataEnd - 2] !== 13 || buf[dataEnd - 1] !== LF) {
        reply("CLIENT_ERROR bad command line termination");
        continue;
      }
      // The credentials end at the CRLF, or at a NUL byte as C strings do.
      let credEnd = buf.indexOf(0, dataAt);
      if (credEnd === -1 || credEnd > dataAt + size) credEnd = dataAt + size;
      this.tokenize(buf, dataAt, credEnd);
      if (this.ntok < 2) {
        reply("CLIENT_ERROR bad authentication token format");
        continue;
      }
      const counters = this.ctx.store.counters;
      counters.auth_cmds++;
      if (
        this.check(buf.subarray(this.tok[0], this.tok[1]), buf.subarray(this.tok[2], this.tok[3]))
      ) {
        this.authenticated = true;
        reply("STORED");
      } else {
        counters.auth_errors++;
        reply("CLIENT_ERROR authentication failure");
      }
    }
    return pos;
  }

  private check(user: Uint8Array, password: Uint8Array): boolean {
    const path = this.ctx.config.authFile;
    if (path === null) return false;
    try {
      return passwordFile(path).check(user, password);
    } catch (err) {
      log.error("text authentication: {err}", { err: (err as Error).message });
      return false;
    }
  }

  /** Splits buf[s, e) on spaces, keeping the first six words. */
  private tokenize(buf: Uint8Array, s: number, e: number): void {
    const tok = this.tok;
    let n = 0;
    let p = s;
    while (p < e && n < 6) {
      while (p < e && buf[p] === SP) p++;
      if (p >= e) break;
      const ts = p;
      while (p < e && buf[p] !== SP) p++;
      tok[2 * n] = ts;
      tok[2 * n + 1] = p;
      n++;
    }
    this.ntok = n;
  }

  private tokenIs(buf: Uint8Array, i: number, word: string): boolean {
    const s = this.tok[2 * i];
    return this.tok[2 * i + 1] - s === word.length && bytesEqualAscii(buf, s, word);
  }
}
