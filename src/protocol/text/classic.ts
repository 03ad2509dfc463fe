/**
 * The classic text commands (get, set and the other storage commands, incr/decr, delete, touch,
 * flush_all, stats and the admin commands). Each takes the tokenized line and returns the offset
 * after the request, or NEED_MORE while its data block is incomplete.
 */
import { CR, LF, SP } from "../../bytes.ts";
import { findStatsGroup, type Stat } from "../../report.ts";
import { introspection } from "../../introspect/introspection.ts";
import { markFetched } from "../../store/store.ts";
import { MAX_KEY_LENGTH, type StoreMode, type StoreOutcome } from "../../store/types.ts";
import { isKeyHeld, release } from "../held.ts";
import { parseI32, parseU32, parseU64 } from "../numbers.ts";
import { type CommandLine, ERR_NO_MEMORY, MAX_DATA_LENGTH, NEED_MORE } from "./line.ts";

export function getCommand(
  r: CommandLine,
  e: number,
  next: number,
  withCas: boolean,
  touch: boolean,
): number {
  const out = r.out;
  const store = r.store;
  if (r.ntok < 2) {
    out.line("ERROR");
    return next;
  }
  let exptime = 0;
  let p = r.tok[2];
  if (touch) {
    const t = parseI32(r.buf, r.tok[2], r.tok[3]);
    if (t === null) {
      out.line("CLIENT_ERROR invalid exptime argument");
      return next;
    }
    exptime = t;
    p = r.tok[4];
  }
  const b = r.buf;
  if (r.resumeGet !== 0) {
    p = r.tok[0] + r.resumeGet;
    r.resumeGet = 0;
  }
  while (p < e) {
    if (out.full()) {
      // A long multi-get of big values is answered in FLUSH_AT pieces, not built whole.
      r.resumeGet = p - r.tok[0];
      return NEED_MORE;
    }
    while (p < e && b[p] === SP) p++;
    if (p >= e) break;
    const ks = p;
    while (p < e && b[p] !== SP) p++;
    if (p - ks > MAX_KEY_LENGTH) {
      out.truncate(r.flushMark);
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
  r.flushMark = out.length;
  return next;
}

export function storeCommand(r: CommandLine, mode: StoreMode, next: number, end: number): number {
  const isCas = mode === "cas";
  const n = r.ntok;
  if (r.truncated || (isCas ? n !== 6 && n !== 7 : n !== 5 && n !== 6)) {
    r.out.line("ERROR");
    return next;
  }
  const quiet = r.noreply();
  const b = r.buf;
  const t = r.tok;
  if (r.tokenLength(1) > MAX_KEY_LENGTH) {
    r.reply("CLIENT_ERROR bad command line format", quiet);
    return next;
  }
  const flags = parseU32(b, t[4], t[5]);
  const exptime = parseI32(b, t[6], t[7]);
  const vlen = parseI32(b, t[8], t[9]);
  if (flags === null || exptime === null || vlen === null) {
    r.reply("CLIENT_ERROR bad command line format", quiet);
    return next;
  }
  let cas = 0n;
  if (isCas) {
    const parsed = parseU64(b, t[10], t[11]);
    if (parsed === null) {
      r.reply("CLIENT_ERROR bad command line format", quiet);
      return next;
    }
    cas = parsed;
  }
  if (vlen < 0 || vlen > MAX_DATA_LENGTH) {
    r.reply("CLIENT_ERROR bad command line format", quiet);
    return next;
  }
  const store = r.store;
  if (store.tooLarge(r.tokenLength(1), vlen, flags)) {
    store.counters.store_too_large++;
    r.reply("SERVER_ERROR object too large for cache", quiet);
    // memcached drops the old value of a set that failed, so no stale data survives.
    if (mode === "set") store.discard(r.tokenBytes(1));
    r.swallow = vlen + 2;
    return next;
  }
  const dataEnd = next + vlen;
  if (dataEnd + 2 > end) {
    if (!r.mayHold(dataEnd + 2 - t[0])) {
      store.counters.store_no_memory++;
      r.reply(ERR_NO_MEMORY, quiet);
      if (mode === "set") store.discard(r.tokenBytes(1));
      r.swallow = vlen + 2;
      return next;
    }
    r.need = dataEnd + 2 - t[0];
    return NEED_MORE;
  }
  if (b[dataEnd] !== CR || b[dataEnd + 1] !== LF) {
    store.counters.cmd_set++; // memcached counts the set before it checks the terminator
    r.reply("CLIENT_ERROR bad data chunk", quiet);
    return dataEnd + 2;
  }
  const outcome = store.store(
    mode,
    r.tokenBytes(1),
    b.subarray(next, dataEnd),
    flags,
    exptime,
    cas,
  );
  r.reply(storeReply(outcome), quiet);
  return dataEnd + 2;
}

/**
 * The line checks `<cmd> <key> <number> [noreply]` commands share (incr, decr, touch): null when
 * the line was answered with an error, else whether noreply is in force.
 */
function keyNumberLine(r: CommandLine): boolean | null {
  const n = r.ntok;
  if (r.truncated || (n !== 3 && n !== 4)) {
    r.out.line("ERROR");
    return null;
  }
  const quiet = r.noreply();
  if (r.tokenLength(1) > MAX_KEY_LENGTH) {
    r.reply("CLIENT_ERROR bad command line format", quiet);
    return null;
  }
  return quiet;
}

export function arithCommand(r: CommandLine, incr: boolean, next: number): number {
  const quiet = keyNumberLine(r);
  if (quiet === null) return next;
  const delta = parseU64(r.buf, r.tok[4], r.tok[5]);
  if (delta === null) {
    r.reply("CLIENT_ERROR invalid numeric delta argument", quiet);
    return next;
  }
  const key = r.tokenBytes(1);
  const held = isKeyHeld(r, r.store, key);
  const outcome = r.store.arith(key, incr, delta, 0n, null, 0, held);
  switch (outcome) {
    case "ok":
      r.reply(r.store.lastNumber.toString(), quiet);
      break;
    case "non_numeric":
      r.reply("CLIENT_ERROR cannot increment or decrement non-numeric value", quiet);
      break;
    case "no_memory":
      r.reply("SERVER_ERROR out of memory", quiet);
      break;
    default:
      r.reply("NOT_FOUND", quiet);
  }
  return next;
}

export function deleteCommand(r: CommandLine, next: number): number {
  const n = r.ntok;
  if (r.truncated || n < 2 || n > 4) {
    r.out.line("ERROR");
    return next;
  }
  let quiet = false;
  if (n > 2) {
    const holdIsZero = r.tokenIs(2, "0");
    quiet = r.noreply();
    const valid = (n === 3 && (holdIsZero || quiet)) || (n === 4 && holdIsZero && quiet);
    if (!valid) {
      r.reply("CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]", quiet);
      return next;
    }
  }
  if (r.tokenLength(1) > MAX_KEY_LENGTH) {
    r.reply("CLIENT_ERROR bad command line format", quiet);
    return next;
  }
  const outcome = r.store.delete(r.tokenBytes(1));
  r.reply(outcome === "deleted" ? "DELETED" : "NOT_FOUND", quiet);
  return next;
}

export function touchCommand(r: CommandLine, next: number): number {
  const quiet = keyNumberLine(r);
  if (quiet === null) return next;
  const exptime = parseI32(r.buf, r.tok[4], r.tok[5]);
  if (exptime === null) {
    r.reply("CLIENT_ERROR invalid exptime argument", quiet);
    return next;
  }
  const h = r.store.touch(r.tokenBytes(1), exptime);
  r.reply(h === -1 ? "NOT_FOUND" : "TOUCHED", quiet);
  return next;
}

export function flushAllCommand(r: CommandLine, next: number): number {
  const n = r.ntok;
  if (r.truncated || n > 3) {
    r.out.line("ERROR");
    return next;
  }
  const quiet = r.noreply();
  if (!r.ctx.config.flushEnabled) {
    // memcached with -F: counted, then refused.
    r.store.counters.cmd_flush++;
    r.reply("CLIENT_ERROR flush_all not allowed", quiet);
    return next;
  }
  let delay = 0;
  if (n !== (quiet ? 2 : 1)) {
    const parsed = parseI32(r.buf, r.tok[2], r.tok[3]);
    if (parsed === null) {
      r.store.counters.cmd_flush++;
      r.reply("CLIENT_ERROR invalid exptime argument", quiet);
      return next;
    }
    delay = parsed;
  }
  r.store.flush(delay > 0 ? delay : 0);
  r.reply("OK", quiet);
  return next;
}

export function verbosityCommand(r: CommandLine, next: number): number {
  const n = r.ntok;
  if (r.truncated || (n !== 2 && n !== 3)) {
    r.out.line("ERROR");
    return next;
  }
  const quiet = r.noreply();
  const level = parseU32(r.buf, r.tok[2], r.tok[3]);
  if (level === null) {
    r.reply("CLIENT_ERROR bad command line format", quiet);
    return next;
  }
  introspection(r.ctx).setVerbosity(Math.min(level, 2));
  r.reply("OK", quiet);
  return next;
}

export function memlimitCommand(r: CommandLine, next: number): number {
  const n = r.ntok;
  if (r.truncated || (n !== 2 && n !== 3)) {
    r.out.line("ERROR");
    return next;
  }
  const quiet = r.noreply();
  const mb = parseU32(r.buf, r.tok[2], r.tok[3]);
  if (mb === null) r.reply("ERROR", quiet);
  else if (mb < 8) r.reply("MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m", quiet);
  else if (mb > 1000000000) {
    r.reply("MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes", quiet);
  } else {
    // Raising reserves nothing at once: memory follows the items stored, as in memcached
    // (tests/hostile/memlimit.test.ts), so any client may use memcached's full range.
    r.store.setMaxBytes(mb * 1024 * 1024);
    r.reply("OK", quiet);
  }
  return next;
}

export function shutdownCommand(r: CommandLine, next: number): number {
  if (!r.ctx.config.shutdownEnabled) {
    r.out.line("ERROR: shutdown not enabled");
    return next;
  }
  if (r.ntok === 1 || (r.ntok === 2 && r.tokenIs(1, "graceful"))) {
    r.closing = true;
    r.ctx.requestShutdown();
  } else {
    r.out.line("CLIENT_ERROR invalid shutdown mode");
  }
  return next;
}

export function debugtimeCommand(r: CommandLine, next: number): number {
  const seconds = r.ntok === 2 ? parseI32(r.buf, r.tok[2], r.tok[3]) : null;
  if (seconds === null) {
    r.out.line("ERROR");
    return next;
  }
  r.store.clock.advance(seconds);
  r.out.line("OK");
  return next;
}

export function statsCommand(r: CommandLine, next: number): number {
  const n = r.ntok;
  if (n >= 2 && r.tokenIs(1, "detail")) {
    if (n >= 3 && (r.tokenIs(2, "on") || r.tokenIs(2, "off"))) r.out.line("OK");
    else if (n >= 3 && r.tokenIs(2, "dump")) r.out.line("END");
    else r.out.line("CLIENT_ERROR usage: stats detail on|off|dump");
    return next;
  }
  const group = findStatsGroup(n === 1 ? EMPTY : r.tokenBytes(1), "text");
  if (group === null) {
    r.out.line("ERROR");
    return next;
  }
  const rows = group.rows(r.ctx);
  if (group.action !== undefined) r.out.line(group.action);
  else statLines(r, rows);
  return next;
}

const EMPTY = new Uint8Array(0);

function statLines(r: CommandLine, lines: Stat[]): void {
  const out = r.out;
  for (const [name, value] of lines) out.line(`STAT ${name} ${value}`);
  out.line("END");
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
