/**
 * memcached 1.6's meta protocol (mg, ms, md, ma, mn, me) over the text line, matching what
 * memcached 1.6.18 answers byte for byte. Importing this module installs it into the text protocol.
 */
import { FETCHED, MAX_KEY_LENGTH } from "../../../store/types.ts";
import { base64Decode } from "./base64.ts";
import { ERR_FORMAT } from "./flags.ts";
import { metaGet } from "./get.ts";
import { release } from "../../held.ts";
import { KEY_BINARY, writeBase64 } from "./output.ts";
import { metaArith, metaDelete, metaSet } from "./update.ts";
import type { CommandLine } from "../line.ts";

/** Dispatches a two-letter command starting with m (the text session has tokenized the line). */
export function metaCommand(line: CommandLine, next: number, end: number): number {
  switch (line.buf[line.tok[0] + 1]) {
    case 103: // g
      return metaGet(line, next);
    case 115: // s
      return metaSet(line, next, end);
    case 100: // d
      return metaDelete(line, next);
    case 97: // a
      return metaArith(line, next);
    case 110: // n
      line.out.line("MN");
      release();
      // mn makes memcached write out everything so far: a later failed get cannot take it back.
      line.flushMark = line.out.length;
      return next;
    case 101: // e
      return metaDebug(line, next);
  }
  line.out.line("ERROR");
  return next;
}

/** me: a debug line with an item's metadata (not its value). */
function metaDebug(line: CommandLine, next: number): number {
  const out = line.out;
  if (line.ntok < 2 || line.tokenLength(1) > MAX_KEY_LENGTH) {
    out.line(ERR_FORMAT);
    return next;
  }
  let key = line.tokenBytes(1);
  if (line.ntok >= 3 && line.tokenIs(2, "b")) {
    const decoded = base64Decode(line.buf, line.tok[2], line.tok[3]);
    if (decoded === null) {
      out.line(ERR_FORMAT);
      return next;
    }
    key = decoded;
  }
  const store = line.store;
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
