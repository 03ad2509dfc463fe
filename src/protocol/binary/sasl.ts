/**
 * SASL PLAIN (RFC 4616) for the binary protocol: the only mechanism offered. The message is
 * `[authzid] NUL authcid NUL password`; an authorization identity other than the user itself is
 * refused, as Cyrus SASL does without a proxy policy.
 */
import { passwordFile } from "../../auth.ts";
import type { Config } from "../../config.ts";
import { log } from "../../log.ts";
import { type BinaryRequest, NEED_MORE } from "./request.ts";
import { Op, Status, writeHeader } from "./wire.ts";

export const MECHANISMS = "PLAIN";
/** memcached refuses mechanism names longer than this (MAX_SASL_MECH_LEN). */
export const MAX_MECH_LENGTH = 32;

const PLAIN = [80, 76, 65, 73, 78];

export function isPlain(mech: Uint8Array): boolean {
  if (mech.length !== PLAIN.length) return false;
  for (let i = 0; i < PLAIN.length; i++) if (mech[i] !== PLAIN[i]) return false;
  return true;
}

/** Path of the file SASL checks passwords against: -o sasl_password_file, else the -Y file. */
export function saslPasswordPath(config: Config): string | null {
  return config.saslPasswordFile ?? config.authFile;
}

/** True when the PLAIN message names a user of the password file with the right password. */
export function checkPlain(config: Config, message: Uint8Array): boolean {
  const first = message.indexOf(0);
  if (first === -1) return false;
  const second = message.indexOf(0, first + 1);
  if (second === -1 || message.indexOf(0, second + 1) !== -1) return false;
  const authzid = message.subarray(0, first);
  const user = message.subarray(first + 1, second);
  const password = message.subarray(second + 1);
  if (authzid.length > 0 && !sameBytes(authzid, user)) return false;
  const path = saslPasswordPath(config);
  if (path === null) return false;
  try {
    return passwordFile(path).check(user, password);
  } catch (err) {
    log.error("SASL: {err}", { err: (err as Error).message });
    return false;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** SASL auth and step. Any attempt first drops an earlier authentication, as memcached does. */
export function saslCommand(
  r: BinaryRequest,
  opcode: number,
  mech: Uint8Array,
  dataAt: number,
  dataLength: number,
  end: number,
): number {
  if (mech.length > MAX_MECH_LENGTH) {
    r.error(Status.EINVAL);
    r.skip(dataLength);
    return dataAt;
  }
  if (r.store.tooLarge(mech.length, dataLength, 0)) {
    r.error(Status.ENOMEM);
    r.skip(dataLength);
    return dataAt;
  }
  const total = dataAt - r.at + dataLength;
  if (end - r.at < total) {
    r.need = total;
    return NEED_MORE;
  }
  const data = r.buf.subarray(dataAt, dataAt + dataLength);
  r.authenticated = false;
  const counters = r.store.counters;
  let ok = false;
  if (opcode === Op.SASL_AUTH) {
    r.saslContinue = false;
    if (isPlain(mech) && dataLength === 0) {
      // PLAIN without an initial response: ask for it with an empty challenge.
      r.saslContinue = true;
      writeHeader(r.out, r.buf, r.at, Status.AUTH_CONTINUE, 0, 0, 0, 0n);
      return dataAt + dataLength;
    }
    ok = isPlain(mech) && checkPlain(r.ctx.config, data);
  } else {
    ok = r.saslContinue && checkPlain(r.ctx.config, data);
    r.saslContinue = false;
  }
  counters.auth_cmds++;
  if (ok) {
    r.authenticated = true;
    r.ok(0, 0, "Authenticated".length);
    r.out.ascii("Authenticated");
  } else {
    counters.auth_errors++;
    r.error(Status.AUTH_ERROR);
  }
  return dataAt + dataLength;
}
