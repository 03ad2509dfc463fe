/**
 * The record format shared by snapshots and the mutation log. A file is an 8-byte magic, then
 * records: a 12-byte header (body length, its bitwise complement, CRC32 of the body) and the body.
 * Each body carries the resulting state of one key, so applying a record twice changes nothing; a
 * touch is logged as a whole PUT too, since a replay drops an item whose PUT has expired by then and
 * a later record must be able to bring it back.
 *
 *   PUT   type 1, time, flags, exptime, cas hi, cas lo (u32 each), bits (u8), key length (u8), key, value
 *   DEL   type 2, time, key
 *   FLUSH type 4, time, deadline (0 = at once)
 *
 * `time` is the server clock when the record was made; exptime and deadline are absolute unix times.
 */
import { crc32 } from "node:zlib";
import type { Store } from "../store/store.ts";

export const SNAPSHOT_MAGIC = "MCSNAP01";
export const LOG_MAGIC = "MCPLOG01";
export const MAGIC_BYTES = 8;
export const HEADER_BYTES = 12;

export const PUT = 1;
export const DEL = 2;
export const FLUSH = 4;

/** Bytes of a PUT body before the key. */
export const PUT_FIXED = 23;
/** A record's bytes besides its value, at most. */
export const RECORD_OVERHEAD = HEADER_BYTES + PUT_FIXED + 255;

/** Appends records to a growable buffer; `take` hands the bytes out and starts again. */
export class RecordBuffer {
  bytes: Uint8Array;
  private view: DataView;
  private used = 0;

  constructor(initial: number | Uint8Array = 64 * 1024) {
    this.bytes = typeof initial === "number" ? new Uint8Array(initial) : initial;
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** Bytes of whole records held. */
  get length(): number {
    return this.used;
  }
  set length(n: number) {
    this.used = n;
  }

  put(
    time: number,
    key: Uint8Array,
    value: Uint8Array,
    flags: number,
    exptime: number,
    casHi: number,
    casLo: number,
    bits: number,
  ): void {
    const at = this.begin(PUT_FIXED + key.length + value.length);
    const v = this.view;
    v.setUint8(at, PUT);
    v.setUint32(at + 1, time);
    v.setUint32(at + 5, flags);
    v.setUint32(at + 9, exptime);
    v.setUint32(at + 13, casHi);
    v.setUint32(at + 17, casLo);
    v.setUint8(at + 21, bits);
    v.setUint8(at + 22, key.length);
    this.bytes.set(key, at + PUT_FIXED);
    this.bytes.set(value, at + PUT_FIXED + key.length);
    this.end(at);
  }

  del(time: number, key: Uint8Array): void {
    const at = this.begin(5 + key.length);
    this.view.setUint8(at, DEL);
    this.view.setUint32(at + 1, time);
    this.bytes.set(key, at + 5);
    this.end(at);
  }

  flush(time: number, deadline: number): void {
    const at = this.begin(9);
    this.view.setUint8(at, FLUSH);
    this.view.setUint32(at + 1, time);
    this.view.setUint32(at + 5, deadline);
    this.end(at);
  }

  /**
   * The bytes written so far, as a view that the next record overwrites: write it out before
   * appending again. Reusing the buffer spares a large allocation per chunk of a snapshot.
   */
  take(): Uint8Array {
    const out = this.bytes.subarray(0, this.length);
    this.length = 0;
    return out;
  }

  /** Makes room for `size` more bytes after `length` (which it may reset, having written them). */
  protected makeRoom(size: number): void {
    const need = this.length + size;
    let capacity = this.bytes.length * 2;
    while (capacity < need) capacity *= 2;
    const bigger = new Uint8Array(capacity);
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  /** Reserves a header and `body` bytes; returns where the body starts. */
  private begin(body: number): number {
    const size = HEADER_BYTES + body;
    if (this.length + size > this.bytes.length) this.makeRoom(size);
    const at = this.length + HEADER_BYTES;
    this.length = at + body;
    return at;
  }

  private end(bodyStart: number): void {
    const len = this.length - bodyStart;
    const h = bodyStart - HEADER_BYTES;
    this.view.setUint32(h, len);
    this.view.setUint32(h + 4, ~len >>> 0);
    this.view.setUint32(h + 8, crc32(this.bytes.subarray(bodyStart, this.length)));
  }
}

/** Appends item `h` of `store` as a PUT record. */
export function putItem(
  out: RecordBuffer,
  store: Store,
  key: Uint8Array,
  h: number,
  time: number,
): void {
  const cas = store.casOf(h);
  // The CAS's high half needs BigInt arithmetic only once the counter passes 2^32.
  const casHi = cas > 0xffffffffn ? Number(cas >> 32n) : 0;
  const value = store.valueOf(h);
  out.put(
    time,
    key,
    value,
    store.flagsOf(h),
    store.exptimeOf(h),
    casHi,
    store.casTagOf(h),
    store.bitsOf(h),
  );
}

/** What a scan found: the bodies' offsets and ends, and how the file ends. */
export interface Scan {
  /** Start of each whole record's body, in file order. */
  starts: number[];
  ends: number[];
  /** Offset just after the last whole record: where a torn or damaged file is cut. */
  goodEnd: number;
  /**
   * "clean": every byte belongs to a whole record. "torn": the file ends inside a record (a short
   * header or body, a last record whose body fails its check, or zeros to the end), as a write cut
   * short leaves it. "corrupt": a damaged record with data after it, which no cut-short write makes.
   */
  ending: "clean" | "torn" | "corrupt";
}

/** Checks every record of a file after its magic; the caller decides what a bad ending means. */
export function scanRecords(file: Uint8Array, magic: string): Scan | "bad magic" {
  if (file.length < MAGIC_BYTES || !hasMagic(file, magic)) return "bad magic";
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const starts: number[] = [];
  const ends: number[] = [];
  let at = MAGIC_BYTES;
  const n = file.length;
  let ending: Scan["ending"] = "clean";
  while (at < n) {
    if (n - at < HEADER_BYTES) {
      ending = "torn";
      break;
    }
    const len = view.getUint32(at);
    if (view.getUint32(at + 4) !== (~len >>> 0)) {
      ending = allZero(file, at) ? "torn" : "corrupt";
      break;
    }
    const body = at + HEADER_BYTES;
    if (body + len > n) {
      ending = "torn";
      break;
    }
    if (len === 0 || crc32(file.subarray(body, body + len)) !== view.getUint32(at + 8)) {
      ending = body + len === n ? "torn" : "corrupt";
      break;
    }
    starts.push(body);
    ends.push(body + len);
    at = body + len;
  }
  return { starts, ends, goodEnd: at, ending };
}

export function magicBytes(magic: string): Uint8Array {
  return new TextEncoder().encode(magic);
}

function hasMagic(file: Uint8Array, magic: string): boolean {
  for (let i = 0; i < MAGIC_BYTES; i++) if (file[i] !== magic.charCodeAt(i)) return false;
  return true;
}

function allZero(file: Uint8Array, from: number): boolean {
  for (let i = from; i < file.length; i++) if (file[i] !== 0) return false;
  return true;
}
