/** Building and reading memcached binary protocol packets in tests. */
import { latin1, RawClient } from "./client.ts";

export interface Request {
  opcode: number;
  key?: string | Uint8Array;
  extras?: Uint8Array;
  value?: string | Uint8Array;
  opaque?: number;
  cas?: bigint;
  /** Overrides, for malformed headers. */
  magic?: number;
  keyLength?: number;
  extLength?: number;
  bodyLength?: number;
}

export interface Response {
  magic: number;
  opcode: number;
  keyLength: number;
  extLength: number;
  status: number;
  bodyLength: number;
  opaque: number;
  cas: bigint;
  extras: Uint8Array;
  key: string;
  value: string;
}

const bytes = (v: string | Uint8Array | undefined) =>
  v === undefined ? new Uint8Array(0) : typeof v === "string" ? latin1(v) : v;

export function packet(r: Request): Uint8Array {
  const key = bytes(r.key);
  const extras = r.extras ?? new Uint8Array(0);
  const value = bytes(r.value);
  const out = new Uint8Array(24 + extras.length + key.length + value.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, r.magic ?? 0x80);
  v.setUint8(1, r.opcode);
  v.setUint16(2, r.keyLength ?? key.length);
  v.setUint8(4, r.extLength ?? extras.length);
  v.setUint32(8, r.bodyLength ?? extras.length + key.length + value.length);
  v.setUint32(12, r.opaque ?? 0);
  v.setBigUint64(16, r.cas ?? 0n);
  out.set(extras, 24);
  out.set(key, 24 + extras.length);
  out.set(value, 24 + extras.length + key.length);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Extras of set/add/replace: flags and expiration. */
export function setExtras(flags: number, exptime: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, flags);
  v.setUint32(4, exptime);
  return b;
}

/** Extras of incr/decr: delta, initial value, expiration. */
export function arithExtras(delta: bigint, initial: bigint, exptime: number): Uint8Array {
  const b = new Uint8Array(20);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, delta);
  v.setBigUint64(8, initial);
  v.setUint32(16, exptime);
  return b;
}

/** A 4-byte big-endian number: touch/gat/flush extras. */
export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

/** Complete response packets at the front of `data`, and the bytes left over. */
export function parsePackets(data: Uint8Array): { packets: Response[]; rest: Uint8Array } {
  const packets: Response[] = [];
  let p = 0;
  while (data.length - p >= 24) {
    const v = new DataView(data.buffer, data.byteOffset + p);
    const bodyLength = v.getUint32(8);
    if (data.length - p < 24 + bodyLength) break;
    const keyLength = v.getUint16(2);
    const extLength = v.getUint8(4);
    const body = data.subarray(p + 24, p + 24 + bodyLength);
    packets.push({
      magic: v.getUint8(0),
      opcode: v.getUint8(1),
      keyLength,
      extLength,
      status: v.getUint16(6),
      bodyLength,
      opaque: v.getUint32(12),
      cas: v.getBigUint64(16),
      extras: body.slice(0, extLength),
      key: text(body.subarray(extLength, extLength + keyLength)),
      value: text(body.subarray(extLength + keyLength)),
    });
    p += 24 + bodyLength;
  }
  return { packets, rest: data.subarray(p) };
}

export function text(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}

/** A socket that speaks packets: send requests, read a number of responses. */
export class BinaryClient {
  private constructor(readonly raw: RawClient) {}

  static async connect(port: number): Promise<BinaryClient> {
    return new BinaryClient(await RawClient.connect(port));
  }

  send(...requests: (Request | Uint8Array)[]): Promise<void> {
    return this.raw.send(concat(...requests.map((r) => r instanceof Uint8Array ? r : packet(r))));
  }

  /** Reads until `count` responses arrived (or the timeout / end of stream). */
  async read(count: number, timeoutMs = 5000): Promise<Response[]> {
    const got = await this.raw.readUntil(
      (t) => parsePackets(latin1(t)).packets.length >= count,
      timeoutMs,
    );
    return parsePackets(latin1(got)).packets;
  }

  /** Reads until `done` accepts the responses so far (or the timeout / end of stream). */
  async readUntil(
    done: (packets: Response[]) => boolean,
    timeoutMs = 5000,
  ): Promise<{ packets: Response[]; rest: Uint8Array }> {
    const got = await this.raw.readUntil((t) => done(parsePackets(latin1(t)).packets), timeoutMs);
    return parsePackets(latin1(got));
  }

  async call(count: number, ...requests: (Request | Uint8Array)[]): Promise<Response[]> {
    await this.send(...requests);
    return await this.read(count);
  }

  closedByPeer(timeoutMs = 2000): Promise<boolean> {
    return this.raw.closedByPeer(timeoutMs);
  }

  close(): void {
    this.raw.close();
  }
}
