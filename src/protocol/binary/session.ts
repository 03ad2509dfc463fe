/**
 * memcached's binary protocol over one connection, answering as memcached 1.6 does: the same
 * status codes and error texts, the same quiet-command rules, and the same way of reading (the
 * header, extras and key first, then the value of the commands that carry one).
 */
import { type ConnectionInfo, type ServerContext, VERSION } from "../../context.ts";
import { traceCommand, tracing } from "../../log.ts";
import { MAX_KEY_LENGTH } from "../../store/types.ts";
import { release, REQS_PER_EVENT } from "../held.ts";
import type { Output } from "../output.ts";
import type { Session } from "../session.ts";
import { arith, deleteCommand, flush, getOrTouch, stat, update } from "./commands.ts";
import { BinaryRequest, NEED_MORE } from "./request.ts";
import { MECHANISMS, saslCommand } from "./sasl.ts";
import { H, HEADER_BYTES, Op, readU16, readU32, REQUEST_MAGIC, Status } from "./wire.ts";

export class BinarySession extends BinaryRequest implements Session {
  /** The connection id for -vv command lines (0 for none, as for UDP). */
  private readonly traceId: number;

  constructor(ctx: ServerContext, conn: ConnectionInfo | null) {
    super(ctx, conn);
    this.traceId = conn?.id ?? 0;
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
    if (this.traceId !== 0 && tracing()) traceBinary(this.traceId, opcode, key);
    const bare = extLength === 0 && keyLength === 0 && bodyLength === 0;
    switch (opcode) {
      case Op.GET:
      case Op.GETQ:
      case Op.GETK:
      case Op.GETKQ:
        if (extLength !== 0 || bodyLength !== keyLength || keyLength === 0) break;
        getOrTouch(this, opcode, key, -1);
        return after;
      case Op.TOUCH:
      case Op.GAT:
      case Op.GATQ:
      case Op.GATK:
      case Op.GATKQ:
        if (extLength !== 4 || keyLength === 0) break;
        getOrTouch(this, opcode, key, readU32(b, p + HEADER_BYTES));
        return after;
      case Op.SET:
      case Op.SETQ:
      case Op.ADD:
      case Op.ADDQ:
      case Op.REPLACE:
      case Op.REPLACEQ:
        if (extLength !== 8 || keyLength === 0 || bodyLength < keyLength + 8) break;
        return update(this, opcode, key, after, bodyLength - keyLength - extLength, end);
      case Op.APPEND:
      case Op.APPENDQ:
      case Op.PREPEND:
      case Op.PREPENDQ:
        if (keyLength === 0 || extLength !== 0) break;
        return update(this, opcode, key, after, bodyLength - keyLength, end);
      case Op.DELETE:
      case Op.DELETEQ:
        if (keyLength === 0 || extLength !== 0 || bodyLength !== keyLength) break;
        deleteCommand(this, opcode === Op.DELETEQ, key);
        return after;
      case Op.INCREMENT:
      case Op.INCREMENTQ:
      case Op.DECREMENT:
      case Op.DECREMENTQ:
        if (keyLength === 0 || extLength !== 20 || bodyLength !== keyLength + 20) break;
        arith(this, opcode, key);
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
        flush(this, opcode === Op.FLUSHQ, extLength === 4 ? readU32(b, p + HEADER_BYTES) : 0);
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
        stat(this, key);
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
        return saslCommand(this, opcode, key, after, bodyLength - keyLength, end);
      default:
        // As memcached: the body is skipped counting from after the key, so extras and key
        // count twice. Kept for byte-for-byte compatibility.
        return this.unknown(after, bodyLength);
    }
    return this.fatal(Status.EINVAL, after);
  }
}

/** Version and the SASL steps are all an unauthenticated client may ask for. */
function allowedBeforeAuth(opcode: number): boolean {
  return opcode === Op.SASL_LIST_MECHS || opcode === Op.SASL_AUTH ||
    opcode === Op.SASL_STEP || opcode === Op.VERSION;
}

const OP_NAMES = new Map<number, string>(
  Object.entries(Op).map(([name, code]) => [code, name.toLowerCase()]),
);
const latin1 = new TextDecoder("latin1");

/** The -vv line of a binary request: its opcode name and key (never its value). */
function traceBinary(id: number, opcode: number, key: Uint8Array): void {
  const name = OP_NAMES.get(opcode) ?? `0x${opcode.toString(16)}`;
  traceCommand(id, key.length === 0 ? `bin ${name}` : `bin ${name} ${latin1.decode(key)}`);
}
