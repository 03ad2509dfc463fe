/**
 * memcached's binary protocol over one connection, answering as memcached 1.6 does: the same
 * status codes and error texts, the same quiet-command rules, and the same way of reading (the
 * header, extras and key first, then the value of the commands that carry one).
 */
import { bytesEqualAscii } from "../../bytes.ts";
import type { ConnectionInfo, ServerContext } from "../../context.ts";
import { VERSION } from "../../context.ts";
import { generalStats, itemsStats, settingsStats, slabsStats, type Stat } from "../../report.ts";
import { markFetched, type Store } from "../../store/store.ts";
import { MAX_KEY_LENGTH, type StoreMode, type StoreOutcome } from "../../store/types.ts";
import {
  appendU32,
  appendU64,
  H,
  HEADER_BYTES,
  Op,
  readU16,
  readU32,
  readU64,
  REQUEST_MAGIC,
  Status,
  statusMessage,
  writeHeader,
} from "./wire.ts";
import { checkPlain, isPlain, MAX_MECH_LENGTH, MECHANISMS } from "./sasl.ts";
import { hold, isKeyHeld, release, REQS_PER_EVENT } from "../held.ts";
import type { Output } from "../output.ts";
import type { Session } from "../session.ts";

/** Returned by a handler that needs more bytes than the buffer holds. */
const NEED_MORE = -1;
/** incr/decr expiration meaning "do not create a missing counter". */
const NO_CREATE = 0xffffffff;

export class BinarySession implements Session {
  need = 0;
  closing = false;
  /** Bytes of a refused or unknown request still to be dropped. */
  private swallow = 0;
  private authenticated: boolean;
  /** SASL PLAIN started without an initial response: the next SASL step carries it. */
  private saslContinue = false;
  private buf: Uint8Array = new Uint8Array(0);
  private out!: Output;
  /** Offset of the current request's header in `buf`. */
  private at = 0;
  private readonly store: Store;

  constructor(readonly ctx: ServerContext, readonly conn: ConnectionInfo | null) {
    this.store = ctx.store;
    this.authenticated = !ctx.config.saslEnabled;
  }

  consume(buf: Uint8Array, start: number, end: number, out: Output): number {
    this.buf = buf;
    this.out = out;
    this.need = 0;
    let pos = start;
    let requests = -1; // the first request of a read is not counted (see REQS_PER_EVENT)
    while (pos < end && !this.closing) {
      if (this.swallow > 0) {
        const n = Math.min(this.swallow, end - pos);
        this.swallow -= n;
        pos += n;
        continue;
      }
      if (end - pos < HEADER_BYTES) {
        this.need = HEADER_BYTES;
        return pos;
      }
      if (buf[pos] !== REQUEST_MAGIC) {
        // memcached hangs up on a bad magic byte without answering.
        this.closing = true;
        return end;
      }
      const head = HEADER_BYTES + buf[pos + H.EXTLEN] + readU16(buf, pos + H.KEYLEN);
      if (end - pos < head) {
        this.need = head;
        return pos;
      }
      const next = this.request(pos, end);
      if (next === NEED_MORE) return pos;
      pos = next;
      if (out.full()) return pos;
      // memcached writes out what it has (letting go of held items) after this many requests.
      if (++requests === REQS_PER_EVENT) {
        requests = 0;
        release();
      }
    }
    return pos;
  }

  /** Handles the request at `p` (header, extras and key present); returns the offset after it. */
  private request(p: number, end: number): number {
    const b = this.buf;
    this.at = p;
    const opcode = b[p + H.OPCODE];
    const keyLength = readU16(b, p + H.KEYLEN);
    const extLength = b[p + H.EXTLEN];
    const bodyLength = readU32(b, p + H.BODYLEN);
    const keyAt = p + HEADER_BYTES + extLength;
    const after = keyAt + keyLength;
    if (this.conn !== null) this.conn.lastCommand = this.store.clock.now;

    if (keyLength + extLength > bodyLength) return this.fatal(Status.UNKNOWN_COMMAND, after);
    if (!this.authenticated && !allowedBeforeAuth(opcode)) {
      return this.fatal(Status.AUTH_ERROR, after);
    }
    if (keyLength > MAX_KEY_LENGTH) return this.fatal(Status.EINVAL, after);

    const key = b.subarray(keyAt, after);
    const bare = extLength === 0 && keyLength === 0 && bodyLength === 0;
    switch (opcode) {
      case Op.GET:
      case Op.GETQ:
      case Op.GETK:
      case Op.GETKQ:
        if (extLength !== 0 || bodyLength !== keyLength || keyLength === 0) break;
        this.getOrTouch(opcode, key, -1);
        return after;
      case Op.TOUCH:
      case Op.GAT:
      case Op.GATQ:
      case Op.GATK:
      case Op.GATKQ:
        if (extLength !== 4 || keyLength === 0) break;
        this.getOrTouch(opcode, key, readU32(b, p + HEADER_BYTES));
        return after;
      case Op.SET:
      case Op.SETQ:
      case Op.ADD:
      case Op.ADDQ:
      case Op.REPLACE:
      case Op.REPLACEQ:
        if (extLength !== 8 || keyLength === 0 || bodyLength < keyLength + 8) break;
        return this.update(opcode, key, after, bodyLength - keyLength - extLength, end);
      case Op.APPEND:
      case Op.APPENDQ:
      case Op.PREPEND:
      case Op.PREPENDQ:
        if (keyLength === 0 || extLength !== 0) break;
        return this.update(opcode, key, after, bodyLength - keyLength, end);
      case Op.DELETE:
      case Op.DELETEQ:
        if (keyLength === 0 || extLength !== 0 || bodyLength !== keyLength) break;
        this.delete(opcode === Op.DELETEQ, key);
        return after;
      case Op.INCREMENT:
      case Op.INCREMENTQ:
      case Op.DECREMENT:
      case Op.DECREMENTQ:
        if (keyLength === 0 || extLength !== 20 || bodyLength !== keyLength + 20) break;
        this.arith(opcode, key);
        return after;
      case Op.QUIT:
      case Op.QUITQ:
        if (!bare) break;
        if (opcode === Op.QUIT) this.ok(0, 0, 0);
        this.closing = true;
        return after;
      case Op.FLUSH:
      case Op.FLUSHQ:
        if (keyLength !== 0 || bodyLength !== extLength || (extLength !== 0 && extLength !== 4)) {
          break;
        }
        this.flush(opcode === Op.FLUSHQ, extLength === 4 ? readU32(b, p + HEADER_BYTES) : 0);
        return after;
      case Op.NOOP:
        if (!bare) break;
        this.ok(0, 0, 0);
        release(); // a noop makes memcached write out everything so far
        return after;
      case Op.VERSION:
        if (!bare) break;
        this.ok(0, 0, VERSION.length, 0n);
        this.out.ascii(VERSION);
        return after;
      case Op.STAT:
        if (extLength !== 0) break;
        this.stat(key);
        return after;
      case Op.SASL_LIST_MECHS:
        if (!bare) break;
        if (!this.ctx.config.saslEnabled) return this.unknown(after, 0);
        this.authenticated = false;
        this.ok(0, 0, MECHANISMS.length, 0n);
        this.out.ascii(MECHANISMS);
        return after;
      case Op.SASL_AUTH:
      case Op.SASL_STEP:
        if (extLength !== 0 || keyLength === 0) break;
        if (!this.ctx.config.saslEnabled) return this.unknown(after, bodyLength - keyLength);
        return this.sasl(opcode, key, after, bodyLength - keyLength, end);
      default:
        // As memcached: the body is skipped counting from after the key, so extras and key
        // count twice. Kept for byte-for-byte compatibility.
        return this.unknown(after, bodyLength);
    }
    return this.fatal(Status.EINVAL, after);
  }

  // ---- responses ----------------------------------------------------------------------------

  /** A success header; the caller appends `bodyLength` bytes. */
  private ok(extLength: number, keyLength: number, bodyLength: number, cas = 0n): void {
    writeHeader(this.out, this.buf, this.at, Status.OK, extLength, keyLength, bodyLength, cas);
  }

  /** An error response with memcached's text for the status (or `message`). */
  private error(status: number, message = statusMessage(status)): void {
    writeHeader(this.out, this.buf, this.at, status, 0, 0, message.length, 0n);
    this.out.ascii(message);
    // memcached writes out at once after an error (unless it swallows a body first; then a
    // little later): the items earlier answers held are let go.
    release();
  }

  /** An error after which memcached closes the connection. */
  private fatal(status: number, after: number): number {
    this.error(status);
    this.closing = true;
    return after;
  }

  private unknown(after: number, skip: number): number {
    this.error(Status.UNKNOWN_COMMAND);
    this.swallow = skip;
    return after;
  }

  // ---- commands -----------------------------------------------------------------------------

  /** get/getq/getk/getkq (exptime -1), touch, gat/gatq/gatk/gatkq. */
  private getOrTouch(opcode: number, key: Uint8Array, exptime: number): void {
    const store = this.store;
    const touch = exptime !== -1;
    const withKey = opcode === Op.GETK || opcode === Op.GETKQ || opcode === Op.GATK ||
      opcode === Op.GATKQ;
    const quiet = opcode === Op.GETQ || opcode === Op.GETKQ || opcode === Op.GATQ ||
      opcode === Op.GATKQ;
    const h = touch ? store.touch(key, exptime) : store.get(key);
    if (h === -1) {
      if (quiet) return;
      if (withKey) {
        writeHeader(this.out, this.buf, this.at, Status.KEY_ENOENT, 0, key.length, key.length, 0n);
        this.out.bytes(key);
      } else {
        this.error(Status.KEY_ENOENT);
      }
      return;
    }
    const value = opcode === Op.TOUCH ? null : store.valueOf(h);
    const keyLength = withKey ? key.length : 0;
    this.ok(4, keyLength, 4 + keyLength + (value === null ? 0 : value.length), store.casOf(h));
    appendU32(this.out, store.flagsOf(h));
    if (withKey) this.out.bytes(key);
    if (value !== null) this.out.bytes(value);
    markFetched(store, h);
    hold(this, store, h);
  }

  /** set/add/replace (8 bytes of extras) and append/prepend (none), quiet or not. */
  private update(
    opcode: number,
    key: Uint8Array,
    valueAt: number,
    valueLength: number,
    end: number,
  ): number {
    const store = this.store;
    const b = this.buf;
    const p = this.at;
    const mode = updateMode(opcode);
    const quiet = opcode === Op.SETQ || opcode === Op.ADDQ || opcode === Op.REPLACEQ ||
      opcode === Op.APPENDQ || opcode === Op.PREPENDQ;
    const append = mode === "append" || mode === "prepend";
    const flags = append ? 0 : readU32(b, p + HEADER_BYTES);
    if (store.tooLarge(key.length, valueLength, flags)) {
      this.error(Status.E2BIG);
      // memcached drops the old value of a set that failed, so no stale data survives.
      if (mode === "set") store.discard(key);
      this.swallow = valueLength;
      return valueAt;
    }
    const total = valueAt - p + valueLength;
    if (end - p < total) {
      if (total > b.length && !this.ctx.limits.canHold(total)) {
        // --max-inflight is used up: memcached's answer when it cannot allocate the item.
        store.counters.store_no_memory++;
        this.error(Status.ENOMEM, "Out of memory allocating item");
        if (mode === "set") store.discard(key);
        this.swallow = valueLength;
        return valueAt;
      }
      this.need = total;
      return NEED_MORE;
    }
    const cas = readU64(b, p + H.CAS);
    const effective: StoreMode = cas !== 0n && !append ? "cas" : mode;
    const exptime = append ? 0 : readU32(b, p + HEADER_BYTES + 4);
    const value = b.subarray(valueAt, valueAt + valueLength);
    const outcome = store.store(effective, key, value, flags, exptime, cas);
    if (outcome === "stored") {
      if (!quiet) this.ok(0, 0, 0, store.lastCas);
    } else {
      this.storeError(effective, outcome);
    }
    return valueAt + valueLength;
  }

  private storeError(mode: StoreMode, outcome: StoreOutcome): void {
    switch (outcome) {
      case "exists":
        return this.error(Status.KEY_EEXISTS);
      case "not_found":
        // append/prepend with a CAS on a missing key: memcached says "not stored".
        return this.error(
          mode === "append" || mode === "prepend" ? Status.NOT_STORED : Status.KEY_ENOENT,
        );
      case "no_memory":
        return this.error(Status.ENOMEM, "Out of memory allocating item");
      default:
        return this.error(
          mode === "add"
            ? Status.KEY_EEXISTS
            : mode === "replace"
            ? Status.KEY_ENOENT
            : Status.NOT_STORED,
        );
    }
  }

  private delete(quiet: boolean, key: Uint8Array): void {
    const outcome = this.store.delete(key, readU64(this.buf, this.at + H.CAS));
    if (outcome === "deleted") {
      if (!quiet) this.ok(0, 0, 0);
    } else {
      this.error(outcome === "exists" ? Status.KEY_EEXISTS : Status.KEY_ENOENT);
    }
  }

  /** incr/decr: delta, initial value and expiration; 0xffffffff = do not create. */
  private arith(opcode: number, key: Uint8Array): void {
    const store = this.store;
    const b = this.buf;
    const e = this.at + HEADER_BYTES;
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
      readU64(b, this.at + H.CAS),
      create ? readU64(b, e + 8) : null,
      create ? exptime : 0,
      isKeyHeld(this, store, key),
    );
    if (creating) {
      if (incr) store.counters.incr_misses--;
      else store.counters.decr_misses--;
    }
    switch (outcome) {
      case "ok":
        if (quiet) return;
        this.ok(0, 0, 8, store.lastCas);
        appendU64(this.out, store.lastNumber);
        return;
      case "non_numeric":
        return this.error(Status.DELTA_BADVAL);
      case "exists":
        return this.error(Status.KEY_EEXISTS);
      case "no_memory":
        return this.error(
          Status.ENOMEM,
          creating ? "Out of memory allocating new item" : "Out of memory incrementing value",
        );
      default:
        return this.error(Status.KEY_ENOENT);
    }
  }

  private flush(quiet: boolean, delay: number): void {
    this.store.flush(delay);
    if (!quiet) this.ok(0, 0, 0);
  }

  /** Stat: every stat is its own packet (key = name, value = value), then an empty one. */
  private stat(group: Uint8Array): void {
    const ctx = this.ctx;
    if (group.length === 0) return this.statPackets(generalStats(ctx));
    // memcached compares these three by prefix.
    if (startsWith(group, "reset")) {
      this.store.counters.reset();
      return this.statPackets([]);
    }
    if (startsWith(group, "settings")) return this.statPackets(settingsStats(ctx));
    if (startsWith(group, "detail")) {
      const rest = group.subarray(6);
      if (startsWith(rest, " dump")) return this.statPackets([["detailed", "END\r\n"]]);
      if (startsWith(rest, " on") || startsWith(rest, " off")) return this.statPackets([]);
      return this.error(Status.KEY_ENOENT);
    }
    if (equals(group, "items")) return this.statPackets(itemsStats(ctx));
    if (equals(group, "slabs")) return this.statPackets(slabsStats(ctx));
    if (equals(group, "sizes")) return this.statPackets([["sizes_status", "disabled"]]);
    this.error(Status.KEY_ENOENT);
  }

  private statPackets(stats: Stat[]): void {
    const out = this.out;
    for (const [name, value] of stats) {
      const text = typeof value === "number" ? String(value) : value;
      this.ok(0, name.length, name.length + text.length);
      out.ascii(name);
      out.ascii(text);
    }
    this.ok(0, 0, 0);
  }

  /** SASL auth and step. Any attempt first drops an earlier authentication, as memcached does. */
  private sasl(
    opcode: number,
    mech: Uint8Array,
    dataAt: number,
    dataLength: number,
    end: number,
  ): number {
    if (mech.length > MAX_MECH_LENGTH) {
      this.error(Status.EINVAL);
      this.swallow = dataLength;
      return dataAt;
    }
    if (this.store.tooLarge(mech.length, dataLength, 0)) {
      this.error(Status.ENOMEM);
      this.swallow = dataLength;
      return dataAt;
    }
    const total = dataAt - this.at + dataLength;
    if (end - this.at < total) {
      this.need = total;
      return NEED_MORE;
    }
    const data = this.buf.subarray(dataAt, dataAt + dataLength);
    this.authenticated = false;
    const counters = this.store.counters;
    let ok = false;
    if (opcode === Op.SASL_AUTH) {
      this.saslContinue = false;
      if (isPlain(mech) && dataLength === 0) {
        // PLAIN without an initial response: ask for it with an empty challenge.
        this.saslContinue = true;
        writeHeader(this.out, this.buf, this.at, Status.AUTH_CONTINUE, 0, 0, 0, 0n);
        return dataAt + dataLength;
      }
      ok = isPlain(mech) && checkPlain(this.ctx.config, data);
    } else {
      ok = this.saslContinue && checkPlain(this.ctx.config, data);
      this.saslContinue = false;
    }
    counters.auth_cmds++;
    if (ok) {
      this.authenticated = true;
      this.ok(0, 0, "Authenticated".length);
      this.out.ascii("Authenticated");
    } else {
      counters.auth_errors++;
      this.error(Status.AUTH_ERROR);
    }
    return dataAt + dataLength;
  }
}

/** Version and the SASL steps are all an unauthenticated client may ask for. */
function allowedBeforeAuth(opcode: number): boolean {
  return opcode === Op.SASL_LIST_MECHS || opcode === Op.SASL_AUTH ||
    opcode === Op.SASL_STEP || opcode === Op.VERSION;
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

function equals(bytes: Uint8Array, word: string): boolean {
  return bytes.length === word.length && startsWith(bytes, word);
}
