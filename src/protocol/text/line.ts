/**
 * The state of one text-protocol request line: the read buffer, the line's words as offsets into it
 * (tokenized in place, no strings), and what a command leaves for the connection loop (bytes still
 * needed, a refused value to drop, whether to close). Classic and meta commands take this, not the
 * session, so they depend on nothing above them.
 */
import type { ConnectionInfo, ServerContext } from "../../context.ts";
import { bytesEqualAscii, SP } from "../../bytes.ts";
import type { Store } from "../../store/store.ts";
import type { Output } from "../output.ts";

/** memcached keeps at most 24 tokens (23 words and a terminator) per command line. */
export const MAX_TOKENS = 24;
/** memcached refuses data lengths whose +2 would pass INT_MAX (and keeps the connection going). */
export const MAX_DATA_LENGTH = 2147483647 - 2;
/** memcached's answer when it cannot allocate an arriving value (here: --max-inflight is used up). */
export const ERR_NO_MEMORY = "SERVER_ERROR out of memory storing object";
/** Returned by a command handler that needs more bytes than the buffer holds. */
export const NEED_MORE = -1;

export class CommandLine {
  /** Bytes the pending request needs from its first byte, when known (0 otherwise). */
  need = 0;
  /** Set when the connection must close after the pending responses are written. */
  closing = false;
  /** Bytes of a refused value still to be dropped. */
  swallow = 0;
  /** Set by `-R`: the connection stopped early and has complete requests left. */
  yielded = false;
  /** A dump still being written after its command returned; the connection waits for it. */
  pending: Promise<void> | null = null;
  /** Set by `watch`: from then on the connection only receives, and its input is ignored. */
  watching = false;
  /** Undoes what a command registered for the connection (a watcher) when it closes. */
  cleanup: (() => void) | null = null;
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
  /**
   * Where a multi-get stopped to let the connection write (offset from the line's first word), so
   * that handling the same line again goes on with the next key; 0 when none.
   */
  resumeGet = 0;
  buf: Uint8Array = new Uint8Array(0);
  out!: Output;
  readonly store: Store;

  constructor(readonly ctx: ServerContext, readonly conn: ConnectionInfo | null) {
    this.store = ctx.store;
  }

  /**
   * Splits buf[s, e) on spaces into at most MAX_TOKENS words, as memcached does. memcached reads
   * the line as a C string, so a NUL ends it: returns where the line ends for the command.
   */
  tokenize(s: number, e: number): number {
    const b = this.buf;
    const tok = this.tok;
    let n = 0;
    let p = s;
    this.truncated = false;
    while (p < e) {
      while (p < e && b[p] === SP) p++;
      if (p >= e || b[p] === 0) break;
      if (n === MAX_TOKENS - 1) {
        this.truncated = true;
        const nul = b.subarray(p, e).indexOf(0);
        if (nul !== -1) e = p + nul;
        break;
      }
      const ts = p;
      while (p < e && b[p] !== SP && b[p] !== 0) p++;
      tok[2 * n] = ts;
      tok[2 * n + 1] = p;
      n++;
      if (p < e && b[p] === 0) break;
    }
    this.ntok = n;
    return p < e && b[p] === 0 ? p : e;
  }

  /**
   * True when the connection may hold `need` bytes for the pending request: they fit the read
   * buffer, or the bytes held for values still arriving stay under --max-inflight with them.
   */
  mayHold(need: number): boolean {
    return need <= this.buf.length || this.ctx.limits.canHold(need);
  }

  tokenLength(i: number): number {
    return this.tok[2 * i + 1] - this.tok[2 * i];
  }

  tokenIs(i: number, word: string): boolean {
    const s = this.tok[2 * i];
    return this.tok[2 * i + 1] - s === word.length && bytesEqualAscii(this.buf, s, word);
  }

  tokenBytes(i: number): Uint8Array {
    return this.buf.subarray(this.tok[2 * i], this.tok[2 * i + 1]);
  }

  /** True when buf[p, end) starts with `word`. */
  startsWith(p: number, end: number, word: string): boolean {
    return end - p >= word.length && bytesEqualAscii(this.buf, p, word);
  }

  /** memcached's set_noreply_maybe: the last word is "noreply". */
  noreply(): boolean {
    return this.ntok > 0 && this.tokenIs(this.ntok - 1, "noreply");
  }

  /** Writes a one-line reply unless noreply is in force. */
  reply(text: string, quiet: boolean): void {
    if (!quiet) this.out.line(text);
  }
}
