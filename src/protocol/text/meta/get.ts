/**
 * mg: the meta get. One key; the flags choose what comes back (value, CAS, flags, TTL, ...) and
 * what happens to the item (touch, vivify on miss, recache wins). Flags are answered in the order
 * they were sent, as memcached does, including the side effects of T and N along the way.
 */
import { markFetched, type Store } from "../../../store/store.ts";
import { FETCHED, STALE, WIN_SENT } from "../../../store/types.ts";
import { parseMetaFlags, precheck } from "./flags.ts";
import { hold } from "../../held.ts";
import {
  ERR_OPAQUE,
  flagAt,
  KEY_BINARY,
  opaqueTooLong,
  remainingTtl,
  writeCas,
  writeKey,
  writeOpaque,
} from "./output.ts";
import type { CommandLine } from "../line.ts";

const EMPTY = new Uint8Array(0);

export function metaGet(line: CommandLine, next: number): number {
  if (!precheck(line, "CLIENT_ERROR options flags are too long")) return next;
  const out = line.out;
  const f = parseMetaFlags(line, 2);
  if (f.error !== null) {
    out.line(f.error);
    return next;
  }
  const store = line.store;
  const c = store.counters;
  const key = f.key;
  let h = store.lookup(key);
  // Without a flag that needs the item as it was (h, l, T, N, R), memcached bumps it on lookup.
  if (h !== -1 && !f.locked && !f.noUpdate) touched(store, h);
  let created = false;
  if (h === -1 && f.vivify) {
    h = store.vivify(key, EMPTY, 0);
    created = h !== -1;
  }
  const mark = out.length;
  const n = line.ntok;

  if (h === -1) {
    c.cmd_get++;
    c.get_misses++;
    out.ascii("EN");
    for (let i = 2; i < n; i++) {
      const flag = flagAt(line, i);
      if (flag === 79 /* O */) {
        if (opaqueTooLong(line, i)) return refuse(line, mark, ERR_OPAQUE, next);
        writeOpaque(out, line, i);
      } else if (flag === 107 /* k */) {
        writeKey(out, key, f.keyBinary);
      }
    }
    out.crlf();
    if (f.quiet) out.truncate(mark);
    return next;
  }

  const value = store.valueOf(h);
  let won = false;
  let ttlSet = false;
  if (f.value) {
    out.ascii("VA ");
    out.uint(value.length);
  } else {
    out.ascii("HD");
  }
  for (let i = 2; i < n; i++) {
    switch (flagAt(line, i)) {
      case 84: // T
        ttlSet = true;
        store.setExptime(h, f.ttl);
        break;
      case 78: // N
        if (created) {
          store.setExptime(h, f.vivifyTtl);
          won = true;
        }
        break;
      case 82: { // R: win the recache when the TTL left is below the token
        const exp = store.exptimeOf(h);
        if (
          (store.bitsOf(h) & WIN_SENT) === 0 && !created && exp !== 0 &&
          exp < store.absoluteExptime(f.recacheTtl)
        ) {
          won = true;
        }
        break;
      }
      case 115: // s
        out.ascii(" s");
        out.uint(value.length);
        break;
      case 116: // t
        out.ascii(" t");
        out.ascii(remainingTtl(store, h));
        break;
      case 99: // c
        out.ascii(" c");
        writeCas(out, store.casOf(h));
        break;
      case 102: // f
        out.ascii(" f");
        out.uint(store.flagsOf(h));
        break;
      case 108: // l
        out.ascii(" l");
        out.uint(Math.max(0, store.clock.now - store.lastAccessOf(h)));
        break;
      case 104: // h
        out.ascii((store.bitsOf(h) & FETCHED) !== 0 ? " h1" : " h0");
        break;
      case 79: // O
        if (opaqueTooLong(line, i)) return refuse(line, mark, ERR_OPAQUE, next);
        writeOpaque(out, line, i);
        break;
      case 107: // k
        writeKey(out, key, (store.bitsOf(h) & KEY_BINARY) !== 0);
        break;
    }
  }
  // Z before X, and W last, as memcached writes them.
  const bits = store.bitsOf(h);
  if ((bits & WIN_SENT) !== 0) out.ascii(" Z");
  if ((bits & STALE) !== 0) {
    out.ascii(" X");
    if ((bits & WIN_SENT) === 0) won = true;
  }
  if (won) {
    out.ascii(" W");
    store.setBits(h, bits | WIN_SENT);
  }
  out.crlf();
  if (f.value) {
    out.bytes(value);
    out.crlf();
  }
  if (f.locked && !f.noUpdate) touched(store, h);
  hold(line, store, h);
  if (ttlSet) {
    c.cmd_touch++;
    c.touch_hits++;
  } else {
    c.cmd_get++;
    c.get_hits++;
  }
  return next;
}

/** An access that counts: LRU bump, last-access time, fetched mark. */
function touched(store: Store, h: number): void {
  store.bump(h);
  markFetched(store, h);
}

/** Drops this command's half-written answer and writes the error instead (even under q). */
export function refuse(line: CommandLine, mark: number, error: string, next: number): number {
  line.out.truncate(mark);
  line.out.line(error);
  return next;
}
