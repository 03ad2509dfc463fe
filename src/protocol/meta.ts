/**
 * memcached 1.6's meta protocol (mg, ms, md, ma, mn, me) over the text session, matching what
 * memcached 1.6.18 answers byte for byte. Importing this module installs it into the text protocol.
 */
import { FETCHED, MAX_KEY_LENGTH } from "../store/types.ts";
import { base64Decode } from "./base64.ts";
import { ERR_FORMAT } from "./meta_flags.ts";
import { metaGet } from "./meta_get.ts";
import { release } from "./held.ts";
import { KEY_BINARY, writeBase64 } from "./meta_output.ts";
import { metaArith, metaDelete, metaSet } from "./meta_update.ts";
import { installMetaHandler, type TextSession } from "./text.ts";

/** Dispatches a two-letter command starting with m (the text session has tokenized the line). */
export function metaCommand(session: TextSession, _lineEnd: number, next: number, end: number) {
  switch (session.buf[session.tok[0] + 1]) {
    case 103: // g
      return metaGet(session, next);
    case 115: // s
      return metaSet(session, next, end);
    case 100: // d
      return metaDelete(session, next);
    case 97: // a
      return metaArith(session, next);
    case 110: // n
      session.out.line("MN");
      release();
      // mn makes memcached write out everything so far: a later failed get cannot take it back.
      session.flushMark = session.out.length;
      return next;
    case 101: // e
      return metaDebug(session, next);
  }
  session.out.line("ERROR");
  return next;
}

/** me: a debug line with an item's metadata (not its value). */
function metaDebug(session: TextSession, next: number): number {
  const out = session.out;
  if (session.ntok < 2 || session.tokenLength(1) > MAX_KEY_LENGTH) {
    out.line(ERR_FORMAT);
    return next;
  }
  let key = session.tokenBytes(1);
  if (session.ntok >= 3 && session.tokenIs(2, "b")) {
    const decoded = base64Decode(session.buf, session.tok[2], session.tok[3]);
    if (decoded === null) {
      out.line(ERR_FORMAT);
      return next;
    }
    key = decoded;
  }
  const store = session.store;
  const h = store.lookup(key);
  if (h === -1) {
    out.line("EN");
  } else {
    const now = store.clock.now;
    const exp = store.exptimeOf(h);
    const bits = store.bitsOf(h);
    const size = store.itemSize(key.length, store.valueOf(h).length, store.flagsOf(h));
    out.ascii("ME ");
    if ((bits & KEY_BINARY) !== 0) writeBase64(out, key);
    else out.bytes(key);
    out.ascii(` exp=${exp === 0 ? -1 : now - exp} la=${now - store.lastAccessOf(h)}`);
    out.ascii(` cas=${store.casOf(h)} fetch=${(bits & FETCHED) !== 0 ? "yes" : "no"}`);
    out.line(` cls=${slabClass(size)} size=${size}`);
  }
  store.counters.cmd_meta++;
  return next;
}

/**
 * The slab class memcached would keep an item of this total size in, with its default slab sizes
 * (96-byte chunks growing by 1.25, 8-byte aligned, up to half a megabyte).
 */
function slabClass(size: number): number {
  for (let i = 0; i < SLAB_SIZES.length; i++) if (size <= SLAB_SIZES[i]) return i + 1;
  return SLAB_SIZES.length;
}

const SLAB_CHUNK_MAX = 512 * 1024;
const SLAB_SIZES: number[] = (() => {
  const sizes: number[] = [];
  let size = 96;
  while (size < SLAB_CHUNK_MAX / 1.25) {
    if (size % 8 !== 0) size += 8 - (size % 8);
    sizes.push(size);
    size = Math.floor(size * 1.25);
  }
  sizes.push(SLAB_CHUNK_MAX);
  return sizes;
})();

installMetaHandler(metaCommand);
