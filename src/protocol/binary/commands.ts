/**
 * The binary protocol's data commands (get/touch/gat, set/add/replace/append/prepend, delete,
 * incr/decr, flush, stat), answered as memcached 1.6 answers them.
 */
import { bytesEqualAscii } from "../../bytes.ts";
import { findStatsGroup, type Stat } from "../../report.ts";
import { markFetched } from "../../store/store.ts";
import type { StoreMode, StoreOutcome } from "../../store/types.ts";
import { hold, isKeyHeld } from "../held.ts";
import { type BinaryRequest, NEED_MORE } from "./request.ts";
import {
  appendU32,
  appendU64,
  H,
  HEADER_BYTES,
  Op,
  readU32,
  readU64,
  Status,
  writeHeader,
} from "./wire.ts";

/** incr/decr expiration meaning "do not create a missing counter". */
const NO_CREATE = 0xffffffff;

/** get/getq/getk/getkq (exptime -1), touch, gat/gatq/gatk/gatkq. */
export function getOrTouch(
  r: BinaryRequest,
  opcode: number,
  key: Uint8Array,
  exptime: number,
): void {
  const store = r.store;
  const touch = exptime !== -1;
  const withKey = opcode === Op.GETK || opcode === Op.GETKQ || opcode === Op.GATK ||
    opcode === Op.GATKQ;
  const quiet = opcode === Op.GETQ || opcode === Op.GETKQ || opcode === Op.GATQ ||
    opcode === Op.GATKQ;
  const h = touch ? store.touch(key, exptime) : store.get(key);
  if (h === -1) {
    if (quiet) return;
    if (withKey) {
      writeHeader(r.out, r.buf, r.at, Status.KEY_ENOENT, 0, key.length, key.length, 0n);
      r.out.bytes(key);
    } else {
      r.error(Status.KEY_ENOENT);
    }
    return;
  }
  const value = opcode === Op.TOUCH ? null : store.valueOf(h);
  const keyLength = withKey ? key.length : 0;
  r.ok(4, keyLength, 4 + keyLength + (value === null ? 0 : value.length), store.casOf(h));
  appendU32(r.out, store.flagsOf(h));
  if (withKey) r.out.bytes(key);
  if (value !== null) r.out.bytes(value);
  markFetched(store, h);
  hold(r, store, h);
}

/** set/add/replace (8 bytes of extras) and append/prepend (none), quiet or not. */
export function update(
  r: BinaryRequest,
  opcode: number,
  key: Uint8Array,
  valueAt: number,
  valueLength: number,
  end: number,
): number {
  const store = r.store;
  const b = r.buf;
  const p = r.at;
  const mode = updateMode(opcode);
  const quiet = opcode === Op.SETQ || opcode === Op.ADDQ || opcode === Op.REPLACEQ ||
    opcode === Op.APPENDQ || opcode === Op.PREPENDQ;
  const append = mode === "append" || mode === "prepend";
  const flags = append ? 0 : readU32(b, p + HEADER_BYTES);
  if (store.tooLarge(key.length, valueLength, flags)) {
    r.error(Status.E2BIG);
    // memcached drops the old value of a set that failed, so no stale data survives.
    if (mode === "set") store.discard(key);
    r.skip(valueLength);
    return valueAt;
  }
  const total = valueAt - p + valueLength;
  if (end - p < total) {
    if (total > b.length && !r.ctx.limits.canHold(total)) {
      // --max-inflight is used up: memcached's answer when it cannot allocate the item.
      store.counters.store_no_memory++;
      r.error(Status.ENOMEM, "Out of memory allocating item");
      if (mode === "set") store.discard(key);
      r.skip(valueLength);
      return valueAt;
    }
    r.need = total;
    return NEED_MORE;
  }
  const cas = readU64(b, p + H.CAS);
  const effective: StoreMode = cas !== 0n && !append ? "cas" : mode;
  const exptime = append ? 0 : readU32(b, p + HEADER_BYTES + 4);
  const value = b.subarray(valueAt, valueAt + valueLength);
  const outcome = store.store(effective, key, value, flags, exptime, cas);
  if (outcome === "stored") {
    if (!quiet) r.ok(0, 0, 0, store.lastCas);
  } else {
    storeError(r, effective, outcome);
  }
  return valueAt + valueLength;
}

function storeError(r: BinaryRequest, mode: StoreMode, outcome: StoreOutcome): void {
  switch (outcome) {
    case "exists":
      return r.error(Status.KEY_EEXISTS);
    case "not_found":
      // append/prepend with a CAS on a missing key: memcached says "not stored".
      return r.error(
        mode === "append" || mode === "prepend" ? Status.NOT_STORED : Status.KEY_ENOENT,
      );
    case "no_memory":
      return r.error(Status.ENOMEM, "Out of memory allocating item");
    default:
      return r.error(
        mode === "add"
          ? Status.KEY_EEXISTS
          : mode === "replace"
          ? Status.KEY_ENOENT
          : Status.NOT_STORED,
      );
  }
}

export function deleteCommand(r: BinaryRequest, quiet: boolean, key: Uint8Array): void {
  const outcome = r.store.delete(key, readU64(r.buf, r.at + H.CAS));
  if (outcome === "deleted") {
    if (!quiet) r.ok(0, 0, 0);
  } else {
    r.error(outcome === "exists" ? Status.KEY_EEXISTS : Status.KEY_ENOENT);
  }
}

/** incr/decr: delta, initial value and expiration; 0xffffffff = do not create. */
export function arith(r: BinaryRequest, opcode: number, key: Uint8Array): void {
  const store = r.store;
  const b = r.buf;
  const e = r.at + HEADER_BYTES;
  const incr = opcode === Op.INCREMENT || opcode === Op.INCREMENTQ;
  const quiet = opcode === Op.INCREMENTQ || opcode === Op.DECREMENTQ;
  const delta = readU64(b, e);
  const exptime = readU32(b, e + 16);
  const create = exptime !== NO_CREATE;
  // memcached counts a miss only when it does not create the counter.
  const creating = create && store.peek(key) === -1;
  const outcome = store.arith(
    key,
    incr,
    delta,
    readU64(b, r.at + H.CAS),
    create ? readU64(b, e + 8) : null,
    create ? exptime : 0,
    isKeyHeld(r, store, key),
  );
  if (creating) {
    if (incr) store.counters.incr_misses--;
    else store.counters.decr_misses--;
  }
  switch (outcome) {
    case "ok":
      if (quiet) return;
      r.ok(0, 0, 8, store.lastCas);
      appendU64(r.out, store.lastNumber);
      return;
    case "non_numeric":
      return r.error(Status.DELTA_BADVAL);
    case "exists":
      return r.error(Status.KEY_EEXISTS);
    case "no_memory":
      return r.error(
        Status.ENOMEM,
        creating ? "Out of memory allocating new item" : "Out of memory incrementing value",
      );
    default:
      return r.error(Status.KEY_ENOENT);
  }
}

export function flush(r: BinaryRequest, quiet: boolean, delay: number): void {
  // As memcached with -F: an authentication error, even for the quiet form.
  if (!r.ctx.config.flushEnabled) return r.error(Status.AUTH_ERROR);
  r.store.flush(delay);
  if (!quiet) r.ok(0, 0, 0);
}

/** Stat: every stat is its own packet (key = name, value = value), then an empty one. */
export function stat(r: BinaryRequest, name: Uint8Array): void {
  if (startsWith(name, "detail")) {
    const rest = name.subarray(6);
    if (startsWith(rest, " dump")) return statPackets(r, [["detailed", "END\r\n"]]);
    if (startsWith(rest, " on") || startsWith(rest, " off")) return statPackets(r, []);
    return r.error(Status.KEY_ENOENT);
  }
  const group = findStatsGroup(name, "binary");
  if (group === null) return r.error(Status.KEY_ENOENT);
  statPackets(r, group.rows(r.ctx));
}

function statPackets(r: BinaryRequest, stats: Stat[]): void {
  const out = r.out;
  for (const [name, value] of stats) {
    const text = typeof value === "number" ? String(value) : value;
    r.ok(0, name.length, name.length + text.length);
    out.ascii(name);
    out.ascii(text);
  }
  r.ok(0, 0, 0);
}

function updateMode(opcode: number): StoreMode {
  switch (opcode) {
    case Op.ADD:
    case Op.ADDQ:
      return "add";
    case Op.REPLACE:
    case Op.REPLACEQ:
      return "replace";
    case Op.APPEND:
    case Op.APPENDQ:
      return "append";
    case Op.PREPEND:
    case Op.PREPENDQ:
      return "prepend";
    default:
      return "set";
  }
}

function startsWith(bytes: Uint8Array, word: string): boolean {
  return bytes.length >= word.length && bytesEqualAscii(bytes, 0, word);
}
