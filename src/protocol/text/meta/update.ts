/**
 * ms, md and ma: the meta commands that change items. Each answers with a two-letter code (HD,
 * NS, EX, NF; VA for ma with v) followed by the flags it echoes, in the order they were sent.
 * Under q, only the nominal answer (HD, or ma's number) is left out; errors always come back.
 */
import { CR, LF } from "../../../bytes.ts";
import type { StoreMode } from "../../../store/types.ts";
import { MAX_KEY_LENGTH } from "../../../store/types.ts";
import { ERR_FORMAT, type MetaFlags, parseMetaFlags, precheck } from "./flags.ts";
import { refuse } from "./get.ts";
import { isHeld } from "../../held.ts";
import {
  anyOpaqueTooLong,
  ERR_OPAQUE,
  flagAt,
  KEY_BINARY,
  MAX_META_TOKENS,
  opaqueTooLong,
  remainingTtl,
  ttlText,
  writeCas,
  writeKey,
  writeOpaque,
} from "./output.ts";
import { parseI32 } from "../../numbers.ts";
import { type CommandLine, ERR_NO_MEMORY, MAX_DATA_LENGTH, NEED_MORE } from "../line.ts";

const ERR_FLAGS_TOO_LONG = "CLIENT_ERROR options flags too long";
const ERR_BAD_FLAG = "CLIENT_ERROR invalid or duplicate flag";

/** Echoes the O and k flags (the only ones a status without an item carries). */
function writeEchoes(line: CommandLine, f: MetaFlags): void {
  const out = line.out;
  for (let i = 2; i < line.ntok; i++) {
    const flag = flagAt(line, i);
    if (flag === 79) writeOpaque(out, line, i);
    else if (flag === 107) writeKey(out, f.key, f.keyBinary);
  }
}

// ---- ms -------------------------------------------------------------------------------------

export function metaSet(line: CommandLine, next: number, end: number): number {
  const out = line.out;
  const n = line.ntok;
  if (n < 2) {
    out.line("ERROR");
    return next;
  }
  if (line.tokenLength(1) > MAX_KEY_LENGTH || n === 2) {
    out.line(ERR_FORMAT);
    return next;
  }
  if (n >= MAX_META_TOKENS) {
    out.line(ERR_FLAGS_TOO_LONG);
    return next;
  }
  const tok = line.tok;
  const vlen = parseI32(line.buf, tok[4], tok[5]);
  if (vlen === null || vlen < 0 || vlen > MAX_DATA_LENGTH) {
    out.line(ERR_FORMAT);
    return next;
  }
  // From here on an error still drops the data block that follows.
  const f = parseMetaFlags(line, 3);
  if (f.error !== null) return refuseData(line, f.error, vlen, next);
  const opaqueError = anyOpaqueTooLong(line, 3);
  let mode: StoreMode;
  switch (f.mode) {
    case 0:
    case 83: // S
      mode = "set";
      break;
    case 69: // E
      mode = "add";
      break;
    case 65: // A
      mode = "append";
      break;
    case 80: // P
      mode = "prepend";
      break;
    case 82: // R
      mode = "replace";
      break;
    default:
      return refuseData(line, "CLIENT_ERROR invalid mode for ms M token", vlen, next);
  }
  // A CAS turns set and replace into cas; add ignores it; append and prepend compare it.
  if (f.hasCas && (mode === "set" || mode === "replace")) mode = "cas";
  if (opaqueError) return refuseData(line, ERR_OPAQUE, vlen, next);
  const store = line.store;
  const key = f.key;
  if (store.tooLarge(key.length, vlen, f.clientFlags)) {
    store.counters.store_too_large++;
    // memcached drops the old value whatever the mode, so no stale data survives.
    store.discard(key);
    return refuseData(line, "SERVER_ERROR object too large for cache", vlen, next);
  }
  const dataEnd = next + vlen;
  if (dataEnd + 2 > end) {
    if (!line.mayHold(dataEnd + 2 - tok[0])) {
      store.counters.store_no_memory++;
      if (mode === "set") store.discard(key);
      return refuseData(line, ERR_NO_MEMORY, vlen, next);
    }
    line.need = dataEnd + 2 - tok[0];
    return NEED_MORE;
  }
  const b = line.buf;
  if (b[dataEnd] !== CR || b[dataEnd + 1] !== LF) {
    store.counters.cmd_set++; // memcached counts the set before it checks the terminator
    out.line("CLIENT_ERROR bad data chunk");
    return dataEnd + 2;
  }
  const compareCas = mode === "add" ? 0n : f.compareCas;
  const outcome = store.store(
    mode,
    key,
    b.subarray(next, dataEnd),
    f.clientFlags,
    f.ttl,
    compareCas,
    0n,
    f.invalidate && mode === "cas",
  );
  let code: string;
  switch (outcome) {
    case "stored":
      code = "HD";
      if (f.keyBinary) {
        const h = store.peek(key); // -1 when stored already expired (a negative T)
        if (h !== -1) store.setBits(h, store.bitsOf(h) | KEY_BINARY);
      }
      break;
    case "exists":
      code = "EX";
      break;
    case "not_found":
      // append/prepend with a CAS find nothing to append to: not stored, not "not found".
      code = mode === "cas" ? "NF" : "NS";
      break;
    case "not_stored":
    case "too_large": // an append that outgrew the item size: memcached does not store it
      code = "NS";
      break;
    case "no_memory":
      out.line("SERVER_ERROR out of memory storing object");
      return dataEnd + 2;
  }
  if (outcome === "stored" && f.quiet) return dataEnd + 2;
  out.ascii(code);
  const cas = outcome === "stored" ? store.lastCas : 0n;
  for (let i = 3; i < line.ntok; i++) {
    const flag = flagAt(line, i);
    if (flag === 79) writeOpaque(out, line, i);
    else if (flag === 107) writeKey(out, key, f.keyBinary);
    else if (flag === 99) {
      out.ascii(" c");
      writeCas(out, cas);
    }
  }
  out.crlf();
  return dataEnd + 2;
}

/** Answers an ms error and drops the data block announced on its line. */
function refuseData(line: CommandLine, error: string, vlen: number, next: number): number {
  line.out.line(error);
  line.swallow = vlen + 2;
  return next;
}

// ---- md -------------------------------------------------------------------------------------

/** md's and ma's line checks and flags; null when an error was answered. */
function checkedFlags(line: CommandLine): MetaFlags | null {
  if (!precheck(line, ERR_FLAGS_TOO_LONG)) return null;
  const f = parseMetaFlags(line, 2);
  if (f.error === null) return f;
  line.out.line(ERR_BAD_FLAG);
  return null;
}

export function metaDelete(line: CommandLine, next: number): number {
  const f = checkedFlags(line);
  if (f === null) return next;
  const out = line.out;
  if (anyOpaqueTooLong(line, 2)) {
    out.line(ERR_OPAQUE);
    return next;
  }
  const store = line.store;
  const c = store.counters;
  const h = store.lookup(f.key);
  let code: string;
  if (h === -1) {
    c.delete_misses++;
    code = "NF";
  } else if (f.hasCas && store.casOf(h) !== f.compareCas) {
    c.delete_misses++;
    code = "EX";
  } else {
    if (f.invalidate) {
      // Mark stale instead of removing: readers get X, and one of them wins the recache.
      if (f.newTtl) store.setExptime(h, f.ttl);
      store.invalidate(h);
    } else {
      store.delete(f.key);
    }
    if (f.quiet) return next;
    code = "HD";
  }
  out.ascii(code);
  writeEchoes(line, f);
  out.crlf();
  return next;
}

// ---- ma -------------------------------------------------------------------------------------

export function metaArith(line: CommandLine, next: number): number {
  const f = checkedFlags(line);
  if (f === null) return next;
  const out = line.out;
  let incr: boolean;
  switch (f.mode) {
    case 0:
    case 73: // I
    case 43: // +
      incr = true;
      break;
    case 68: // D
    case 45: // -
      incr = false;
      break;
    default:
      out.line("CLIENT_ERROR invalid mode for ma M token");
      return next;
  }
  const store = line.store;
  const c = store.counters;
  const key = f.key;
  let h = store.lookup(key);
  let created = false;
  let digits = "";
  const mark = out.length;
  // When memcached writes the result as a new item (it outgrew the old one, or an mg answer holds
  // that one), T and t act on the old item it keeps a hold of: t shows the new TTL, the item
  // stored keeps its old one. -1 = no such detour.
  let detourExptime = -1;
  if (h === -1) {
    if (!f.vivify) {
      if (incr) c.incr_misses++;
      else c.decr_misses++;
      return answerWithoutItem(line, f, "NF", mark, next);
    }
    digits = f.initial.toString();
    h = store.vivify(key, asciiBytes(digits), 0);
    if (h === -1) {
      out.line("SERVER_ERROR Out of memory allocating new item");
      return next;
    }
    created = true;
  } else {
    // memcached refuses an empty value before it compares the CAS.
    const oldLength = store.valueOf(h).length;
    const held = isHeld(line, store, h);
    const oldExptime = store.exptimeOf(h);
    const outcome = oldLength === 0
      ? "non_numeric"
      : store.arith(key, incr, f.delta, f.compareCas, null, 0, held);
    switch (outcome) {
      case "ok":
        break;
      case "non_numeric":
        out.line("CLIENT_ERROR cannot increment or decrement non-numeric value");
        return next;
      case "exists":
        return answerWithoutItem(line, f, "EX", mark, next);
      case "no_memory":
        out.line("SERVER_ERROR out of memory");
        return next;
      case "not_found":
        return answerWithoutItem(line, f, "NF", mark, next);
    }
    digits = store.lastNumber.toString();
    h = store.peek(key);
    if (held || digits.length > oldLength) detourExptime = oldExptime;
  }
  if (f.value) {
    out.ascii("VA ");
    out.uint(digits.length);
  } else {
    out.ascii("HD");
  }
  for (let i = 2; i < line.ntok; i++) {
    switch (flagAt(line, i)) {
      case 99: // c
        out.ascii(" c");
        writeCas(out, store.casOf(h));
        break;
      case 116: // t
        out.ascii(" t");
        out.ascii(detourExptime === -1 ? remainingTtl(store, h) : ttlText(store, detourExptime));
        break;
      case 84: // T
        if (detourExptime === -1) store.setExptime(h, f.ttl);
        else detourExptime = store.absoluteExptime(f.ttl);
        break;
      case 78: // N
        if (created) store.setExptime(h, f.vivifyTtl);
        break;
      case 79: // O
        if (opaqueTooLong(line, i)) return refuse(line, mark, ERR_OPAQUE, next);
        writeOpaque(out, line, i);
        break;
      case 107: // k
        writeKey(out, key, f.keyBinary);
        break;
    }
  }
  if (f.value) {
    out.crlf();
    out.ascii(digits);
  }
  out.crlf();
  // Only an update is quiet: a number created on a miss is still reported.
  if (f.quiet && !created) out.truncate(mark);
  return next;
}

function answerWithoutItem(
  line: CommandLine,
  f: MetaFlags,
  code: string,
  mark: number,
  next: number,
): number {
  if (anyOpaqueTooLong(line, 2)) return refuse(line, mark, ERR_OPAQUE, next);
  line.out.ascii(code);
  writeEchoes(line, f);
  line.out.crlf();
  return next;
}

function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
