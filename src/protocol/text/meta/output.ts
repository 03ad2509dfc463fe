/** Pieces every meta response is built from: returned key, opaque, TTL, and the limits they share. */
import { SP } from "../../../bytes.ts";
import type { Store } from "../../../store/store.ts";
import { base64EncodeInto, base64Length } from "./base64.ts";
import type { Output } from "../../output.ts";
import type { CommandLine } from "../line.ts";

/**
 * Item bit (next to FETCHED/STALE/WIN_SENT): the item was stored by a command with `b`, so `k` and
 * `me` return its key base64-encoded.
 */
export const KEY_BINARY = 8;

/** memcached refuses a meta command with 20 or more words (its count includes a terminator). */
export const MAX_META_TOKENS = 20;
/** An opaque token (the O included) may be at most this long. */
const MAX_OPAQUE_LENGTH = 32;
export const ERR_OPAQUE = "CLIENT_ERROR opaque token too long";

/** The first byte of token i. */
export function flagAt(line: CommandLine, i: number): number {
  return line.buf[line.tok[2 * i]];
}

export function opaqueTooLong(line: CommandLine, i: number): boolean {
  return line.tokenLength(i) > MAX_OPAQUE_LENGTH;
}

/** True when any O token from `first` on is too long (checked before commands that change data). */
export function anyOpaqueTooLong(line: CommandLine, first: number): boolean {
  for (let i = first; i < line.ntok; i++) {
    if (flagAt(line, i) === 79 && opaqueTooLong(line, i)) return true;
  }
  return false;
}

/** " O<opaque>": the token is echoed as it came. */
export function writeOpaque(out: Output, line: CommandLine, i: number): void {
  out.byte(SP);
  out.bytes(line.tokenBytes(i));
}

/** " k<key>", or " k<base64 key> b" for a binary key. */
export function writeKey(out: Output, key: Uint8Array, binary: boolean): void {
  out.ascii(" k");
  if (!binary) {
    out.bytes(key);
    return;
  }
  writeBase64(out, key);
  out.ascii(" b");
}

export function writeBase64(out: Output, data: Uint8Array): void {
  out.ensure(base64Length(data.length));
  out.length = base64EncodeInto(data, out.buf, out.length);
}

/** Remaining TTL as memcached prints it: -1 for none, else an unsigned 32-bit difference. */
export function remainingTtl(store: Store, handle: number): string {
  return ttlText(store, store.exptimeOf(handle));
}

/** The same for an absolute expiry time (0 = never). */
export function ttlText(store: Store, exptime: number): string {
  if (exptime === 0) return "-1";
  return String((exptime - store.clock.now) >>> 0);
}

/** A bigint CAS in decimal. */
export function writeCas(out: Output, cas: bigint): void {
  out.ascii(cas.toString());
}
