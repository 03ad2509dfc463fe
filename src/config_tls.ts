/**
 * memcached's TLS settings (`-Z`, `-o ssl_*`, `-l notls:`) and ours (`--http-tls-cert`,
 * `--http-tls-key`, `--tls-handshake-timeout`): parsed with memcached's messages and exit codes,
 * and refused (exit 64, one line) where Deno's TLS (rustls) cannot do what memcached would.
 */
import { parseNumber, UsageError } from "./config_values.ts";

export interface TlsConfig {
  /** -Z: memcached's TCP listeners speak TLS (except `-l notls:` ones), and the HTTP door too. */
  enabled: boolean;
  chainCert: string | null;
  /** null: the key is read from the chain file, as memcached's help says it may be. */
  key: string | null;
  /** 0 none, 1 request (a certificate given must verify), 2 require, 3 require once. */
  verifyMode: 0 | 1 | 2 | 3;
  caCert: string | null;
  /** ssl_wbuf_size in bytes: the most cleartext handed to TLS in one write. */
  wbufSize: number;
  sessionCache: boolean;
  minVersion: "TLSv1.2" | "TLSv1.3";
  /** A handshake must finish within this, from the TCP accept (ours; memcached has none). */
  handshakeTimeoutMs: number;
  /** The HTTP door's own certificate; without them it uses the memcached door's under -Z. */
  httpCert: string | null;
  httpKey: string | null;
}

/** The parseArgs options of TLS, for src/config.ts. */
export const TLS_OPTIONS = {
  "enable-ssl": { type: "boolean", short: "Z" },
  "http-tls-cert": { type: "string" },
  "http-tls-key": { type: "string" },
  "tls-handshake-timeout": { type: "string" },
} as const;

type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * The TLS settings of a parsed command line: `v` is parseArgs' values (its `-o` items included),
 * `tcpPort` the memcached TCP port (0 = off). Throws UsageError.
 */
export function parseTlsConfig(v: Values, tcpPort: number): TlsConfig {
  const tls = defaultTlsConfig();
  for (const group of (v.extended ?? []) as string[]) {
    for (const item of group.split(",")) {
      const eq = item.indexOf("=");
      const key = eq === -1 ? item : item.slice(0, eq);
      if (!key.startsWith("ssl_") || tlsOption(key, eq === -1 ? null : item.slice(eq + 1), tls)) {
        continue;
      }
      throw new UsageError(`Illegal suboption "${key}"`, 1); // memcached's words
    }
  }
  finishTlsConfig(tls, v, tcpPort);
  return tls;
}

export function defaultTlsConfig(): TlsConfig {
  return {
    enabled: false,
    chainCert: null,
    key: null,
    verifyMode: 0,
    caCert: null,
    wbufSize: 16 * 1024,
    sessionCache: false,
    minVersion: "TLSv1.2",
    handshakeTimeoutMs: 10_000,
    httpCert: null,
    httpKey: null,
  };
}

const RUSTLS = "Deno's TLS (rustls) speaks TLS 1.2 and 1.3 only";

/**
 * One `-o` item if it is a TLS setting: true when taken. memcached's own checks keep its words
 * and its exit status (1); what rustls cannot honour is refused with exit status 64.
 */
export function tlsOption(key: string, value: string | null, tls: TlsConfig): boolean {
  if (!key.startsWith("ssl_")) return false;
  const needed = () => {
    if (value === null || value === "") throw new UsageError(`Missing ${key} argument`, 1);
    return value;
  };
  const integer = () => {
    const text = needed();
    if (!/^-?\d+$/.test(text)) throw new UsageError(`could not parse argument to ${key}`, 1);
    return Number(text);
  };
  switch (key) {
    case "ssl_chain_cert":
      tls.chainCert = needed();
      return true;
    case "ssl_key":
      tls.key = needed();
      return true;
    case "ssl_ca_cert":
      tls.caCert = needed();
      return true;
    case "ssl_verify_mode": {
      const mode = integer();
      if (mode < 0 || mode > 3) {
        throw new UsageError("Invalid ssl_verify_mode. Use help to see valid options.", 1);
      }
      tls.verifyMode = mode as TlsConfig["verifyMode"];
      return true;
    }
    case "ssl_keyformat":
      if (integer() !== 1) {
        throw new UsageError(
          "ssl_keyformat: only 1 (PEM) is supported; convert a DER key with " +
            "`openssl pkey -inform DER -in key.der -out key.pem`",
        );
      }
      return true;
    case "ssl_ciphers":
      needed();
      throw new UsageError(
        `ssl_ciphers is not supported: ${RUSTLS}, with its own cipher suites (README: TLS)`,
      );
    case "ssl_wbuf_size":
      // memcached's kilobytes; its check is only that the number parses.
      tls.wbufSize = parseNumber("-o ssl_wbuf_size", needed(), 1, 1 << 20) * 1024;
      return true;
    case "ssl_session_cache":
      tls.sessionCache = true;
      return true;
    case "ssl_kernel_tls":
      throw new UsageError("ssl_kernel_tls is not supported: Deno offers no kernel TLS offload");
    case "ssl_min_version": {
      const version = integer();
      if (version < 0 || version > 3) {
        throw new UsageError("Invalid ssl_min_version. Use help to see valid options.", 1);
      }
      if (version < 2) {
        throw new UsageError(
          `ssl_min_version=${version} is not supported: ${RUSTLS}; use 2 (tlsv1.2) or 3`,
        );
      }
      tls.minVersion = version === 2 ? "TLSv1.2" : "TLSv1.3";
      return true;
    }
  }
  return false;
}

/**
 * The flags (-Z and our long options) and the checks that need the whole command line: `v` is
 * parseArgs' values, `tcpPort` the memcached TCP port (0 = off).
 */
function finishTlsConfig(tls: TlsConfig, v: Values, tcpPort: number): void {
  const text = (name: string) => v[name] as string | undefined;
  tls.enabled = !!v["enable-ssl"];
  tls.httpCert = text("http-tls-cert") ?? null;
  tls.httpKey = text("http-tls-key") ?? null;
  const timeout = text("tls-handshake-timeout");
  if (timeout !== undefined) {
    tls.handshakeTimeoutMs = parseNumber("--tls-handshake-timeout", timeout, 100, 600_000);
  }
  if ((tls.httpCert === null) !== (tls.httpKey === null)) {
    throw new UsageError("give --http-tls-cert and --http-tls-key together");
  }
  if (tls.enabled && tcpPort === 0) {
    throw new UsageError("ERROR: You cannot enable SSL without a TCP port.");
  }
  if (tls.enabled && tls.chainCert === null) {
    throw new UsageError("-Z needs a certificate: -o ssl_chain_cert=FILE (and ssl_key=FILE)");
  }
}

/** The HTTP door speaks TLS: under -Z, or with its own certificate. */
export function httpTls(tls: TlsConfig): boolean {
  return tls.enabled || tls.httpCert !== null;
}

/** memcached prints ssl_verify_mode as OpenSSL's flags: PEER 1, FAIL_IF_NO_PEER_CERT 2, ONCE 4. */
export const OPENSSL_VERIFY_FLAGS = [0, 1, 3, 7] as const;
