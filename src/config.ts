import { parseArgs } from "node:util";
import {
  checkItemSize,
  hardeningConfig,
  httpToken,
  joinNegativePorts,
  logFormat,
  parseNumber,
  parseSize,
  parseThreads,
  UsageError,
} from "./config_values.ts";
import { passwordFile } from "./auth.ts";
import { parseTlsConfig, TLS_OPTIONS, type TlsConfig } from "./config_tls.ts";

/** Everything the command line sets. Defaults are memcached's, except addresses (loopback). */
export interface Config {
  /** 0 = TCP off, -1 = any free port (memcached's -p -1). */
  port: number;
  listen: string;
  udpPort: number;
  /** -b: the memcached TCP listeners' backlog. */
  tcpBacklog: number;
  unixSocket: string | null;
  unixMask: number;
  maxBytes: number;
  maxConnections: number;
  /** -t: worker threads serving the doors over the one store. */
  threads: number;
  itemSizeMax: number;
  evictions: boolean;
  casEnabled: boolean;
  flushEnabled: boolean;
  shutdownEnabled: boolean;
  verbosity: number;
  protocol: "auto" | "ascii" | "binary";
  idleTimeout: number;
  saslEnabled: boolean;
  saslPasswordFile: string | null;
  authFile: string | null;
  httpPort: number;
  httpHost: string;
  httpToken: string | null;
  debugTime: boolean;
  logFormat: "text" | "json";
  pidFile: string | null;
  /** memcached's $MEMCACHED_PORT_FILENAME: where the bound ports are written. */
  portFile: string | null;
  /** Set when the token came from the command line, where process lists show it. */
  httpTokenOnCommandLine: boolean;
  /** Hardening bounds (see hardeningConfig). */
  maxInflightBytes: number;
  httpConnLimit: number;
  /**
   * Client connections of every door together that the descriptors allow (set at start-up when
   * the hard ulimit -n is short of -c, --http-conn-limit and a reserve; else Infinity).
   */
  clientDescriptors: number;
  httpInsecure: boolean;
  shutdownGraceMs: number;
  httpTimeoutMs: number;
  httpIdleTimeoutMs: number;
  /** `-R`: requests one connection may make per turn before it yields to the others. */
  reqsPerEvent: number;
  /** `-D`: the character that ends a key's prefix for `stats detail`. */
  prefixDelimiter: string;
  /** false with `-X`: no metadump, mgdump, cachedump or HTTP key stream. */
  dumpEnabled: boolean;
  /** false with `-W`: no `watch` and no `GET /watch`. */
  watchEnabled: boolean;
  /** `-o watcher_logbuf_size` in bytes: what one watcher may have queued before lines are skipped. */
  watcherBufferBytes: number;
  /** `-o lru_crawler` / `no_lru_crawler` (and `no_modern`): whether `lru_crawler` commands run. */
  lruCrawler: boolean;
  /**
   * `-o lru_maintainer` / `no_lru_maintainer` (and `no_modern`): whether the background sweep runs,
   * which unlinks dead items as memcached's LRU maintainer thread does.
   */
  lruMaintainer: boolean;
  /** Persistence (src/persist): `-e PATH`, `--persist-log DIR`, `--fsync`, `--persist-repair`. */
  persist: PersistConfig;
  tls: TlsConfig;
  /** Flags accepted for compatibility that change nothing here, for the start-up log. */
  ignored: string[];
}

export interface PersistConfig {
  snapshotPath: string | null;
  logDir: string | null;
  fsync: "always" | "everysec" | "no";
  repair: boolean;
  /** Log bytes past which the log is rewritten from a snapshot. */
  rewriteBytes: number;
}

export const HTTP_TOKEN_ENV = "MEMCACHED_HTTP_TOKEN";
export const SASL_PWDB_ENV = "MEMCACHED_SASL_PWDB";
export const PORT_FILE_ENV = "MEMCACHED_PORT_FILENAME";
/** The only environment variables read; `deno task start` grants access to just these. */
export const ENV_VARS = [HTTP_TOKEN_ENV, SASL_PWDB_ENV, PORT_FILE_ENV];

/** memcached's default listen backlog (-b). */
const TCP_BACKLOG = 1024;

export type ParseResult = { config: Config } | { exit: "help" | "version" };

export function parseConfig(
  args: string[],
  env: Record<string, string | undefined> = {},
): ParseResult {
  // `deno task start -- -p 1` hands the program the `--` too.
  if (args[0] === "--") args = args.slice(1);
  args = joinNegativePorts(args);
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string", short: "p" },
        listen: { type: "string", short: "l", multiple: true },
        "udp-port": { type: "string", short: "U" },
        "unix-socket": { type: "string", short: "s" },
        "unix-mask": { type: "string", short: "a" },
        "memory-limit": { type: "string", short: "m" },
        "conn-limit": { type: "string", short: "c" },
        "max-item-size": { type: "string", short: "I" },
        "disable-evictions": { type: "boolean", short: "M" },
        "disable-cas": { type: "boolean", short: "C" },
        "enable-shutdown": { type: "boolean", short: "A" },
        "enable-sasl": { type: "boolean", short: "S" },
        "auth-file": { type: "string", short: "Y" },
        protocol: { type: "string", short: "B" },
        verbose: { type: "boolean", short: "v", multiple: true },
        extended: { type: "string", short: "o", multiple: true },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
        threads: { type: "string", short: "t" },
        user: { type: "string", short: "u" },
        "max-reqs-per-event": { type: "string", short: "R" },
        "listen-backlog": { type: "string", short: "b" },
        "slab-growth-factor": { type: "string", short: "f" },
        "slab-min-size": { type: "string", short: "n" },
        "enable-largepages": { type: "boolean", short: "L" },
        "lock-memory": { type: "boolean", short: "k" },
        "enable-coredumps": { type: "boolean", short: "r" },
        daemon: { type: "boolean", short: "d" },
        pidfile: { type: "string", short: "P" },
        "memory-file": { type: "string", short: "e" },
        "disable-flush-all": { type: "boolean", short: "F" },
        "disable-dumping": { type: "boolean", short: "X" },
        "disable-watch": { type: "boolean", short: "W" },
        "napi-ids": { type: "string", short: "N" },
        "stat-key-prefix": { type: "string", short: "D" },
        "http-port": { type: "string" },
        "http-host": { type: "string" },
        "http-token": { type: "string" },
        "http-token-file": { type: "string" },
        "log-format": { type: "string" },
        "enable-debugtime": { type: "boolean" },
        "max-inflight": { type: "string" },
        "http-conn-limit": { type: "string" },
        "http-insecure": { type: "boolean" },
        "shutdown-grace": { type: "string" },
        "http-timeout": { type: "string" },
        "http-idle-timeout": { type: "string" },
        "persist-log": { type: "string" },
        fsync: { type: "string" },
        "persist-repair": { type: "boolean" },
        "persist-rewrite-size": { type: "string" },
        ...TLS_OPTIONS,
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return { exit: "help" } as const;
  if (v.version) return { exit: "version" } as const;

  if (v.daemon) {
    throw new UsageError(
      "-d is not supported: a Deno process cannot fork; run it under systemd (deploy/) instead",
    );
  }
  const ignored: string[] = [];
  const ignore = (flag: string, why: string) => ignored.push(`${flag} (${why})`);
  const threads = parseThreads(v.threads);
  if (v.user !== undefined) ignore("-u", "run as the user you start it as");
  const tcpBacklog = v["listen-backlog"] === undefined
    ? TCP_BACKLOG
    : parseNumber("-b", v["listen-backlog"], 1, 2 ** 31 - 1);
  if (v["slab-growth-factor"] !== undefined) ignore("-f", "no slab classes to tune");
  if (v["slab-min-size"] !== undefined) ignore("-n", "no slab classes to tune");
  if (v["enable-largepages"]) ignore("-L", "no large pages");
  if (v["lock-memory"]) ignore("-k", "memory is not locked");
  if (v["enable-coredumps"]) ignore("-r", "core limits are the shell's");
  if (v["napi-ids"] !== undefined) ignore("-N", "no NAPI ids");
  const prefixDelimiter = v["stat-key-prefix"] ?? ":";
  if (prefixDelimiter.length !== 1) throw new UsageError("option -D needs one character");

  // -1 asks for a free port, as -p -1 does.
  const udpPort = v["udp-port"] === undefined ? 0 : parseNumber("-U", v["udp-port"], -1, 65535);
  if (udpPort !== 0 && v["enable-sasl"]) {
    throw new UsageError("ERROR: Cannot enable UDP while using binary SASL authentication.");
  }

  const itemSizeMax = v["max-item-size"] === undefined
    ? 1024 * 1024
    : parseSize(v["max-item-size"]);
  if (itemSizeMax === null) {
    throw new UsageError(`option -I needs a size (k/m suffix), got "${v["max-item-size"]}"`);
  }
  const memoryMb = v["memory-limit"] === undefined
    ? 64
    : parseNumber("-m", v["memory-limit"], 1, 1024 * 1024);
  checkItemSize(itemSizeMax, memoryMb * 1024 * 1024);

  const protocol = v.protocol ?? "auto";
  if (protocol !== "auto" && protocol !== "ascii" && protocol !== "binary") {
    throw new UsageError(`option -B must be auto, ascii or binary, got "${protocol}"`);
  }
  const mask = v["unix-mask"] ?? "700";
  if (!/^[0-7]{1,4}$/.test(mask)) throw new UsageError(`option -a needs an octal mask`);

  let idleTimeout = 0;
  let watcherBufferBytes = 256 * 1024;
  let lruCrawler = true;
  let lruMaintainer = true;
  let saslPasswordFile: string | null = env[SASL_PWDB_ENV] ?? null;
  for (const group of v.extended ?? []) {
    for (const item of group.split(",")) {
      if (item === "") continue;
      const eq = item.indexOf("=");
      const key = eq === -1 ? item : item.slice(0, eq);
      const value = eq === -1 ? "" : item.slice(eq + 1);
      if (key === "idle_timeout") idleTimeout = parseNumber("-o idle_timeout", value, 0, 2 ** 31);
      else if (key === "sasl_password_file") saslPasswordFile = value;
      else if (key.startsWith("ssl_")) continue; // src/config_tls.ts reads them
      else if (key === "watcher_logbuf_size") {
        watcherBufferBytes = parseNumber("-o watcher_logbuf_size", value, 1, 1 << 20) * 1024;
      } else if (key === "relaxed_privileges") continue; // memcached's debug builds; nothing to relax
      else if (key === "lru_crawler" || key === "no_lru_crawler") {
        lruCrawler = key === "lru_crawler";
      } else if (key === "lru_maintainer" || key === "no_lru_maintainer") {
        lruMaintainer = key === "lru_maintainer";
      } else if (key === "no_modern") {
        lruCrawler = lruMaintainer = false;
        ignore("-o no_modern", "only its no_lru_crawler and no_lru_maintainer parts apply here");
      } else ignore(`-o ${key}`, "no such tuning here");
    }
  }

  const unixSocket = v["unix-socket"] ?? null;
  // As memcached: a unix socket replaces TCP unless a port is asked for explicitly.
  // And -U alone moves TCP to the UDP port, as memcached's does.
  const port = v.port !== undefined
    ? parseNumber("-p", v.port, -1, 65535)
    : unixSocket !== null
    ? 0
    : udpPort !== 0
    ? udpPort
    : 11211;

  const saslEnabled = !!v["enable-sasl"];
  const authFile = v["auth-file"] ?? null;
  const bound = authProtocol(protocol, v.protocol !== undefined, saslEnabled, authFile);
  checkPasswordFiles(saslEnabled, saslPasswordFile ?? authFile, authFile);

  const fsync = v.fsync ?? "everysec";
  if (fsync !== "always" && fsync !== "everysec" && fsync !== "no") {
    throw new UsageError(`option --fsync must be always, everysec or no, got "${fsync}"`);
  }
  const rewriteBytes = parseSize(v["persist-rewrite-size"] ?? "64m");
  if (rewriteBytes === null || rewriteBytes < 1024) {
    throw new UsageError(`option --persist-rewrite-size needs a size of 1k or more`);
  }
  const persist: PersistConfig = {
    snapshotPath: v["memory-file"] ?? null,
    logDir: v["persist-log"] ?? null,
    fsync,
    repair: !!v["persist-repair"],
    rewriteBytes,
  };

  const config: Config = {
    port,
    // Repeated -l are joined with commas, as memcached keeps them (`stats settings` inter).
    listen: v.listen === undefined ? "127.0.0.1" : [...new Set(v.listen)].join(","),
    udpPort,
    tcpBacklog,
    unixSocket,
    unixMask: parseInt(mask, 8),
    maxBytes: memoryMb * 1024 * 1024,
    threads,
    maxConnections: v["conn-limit"] === undefined
      ? 1024
      : parseNumber("-c", v["conn-limit"], 1, 1_000_000),
    itemSizeMax,
    evictions: !v["disable-evictions"],
    casEnabled: !v["disable-cas"],
    flushEnabled: !v["disable-flush-all"],
    shutdownEnabled: !!v["enable-shutdown"],
    verbosity: v.verbose?.length ?? 0,
    protocol: bound,
    idleTimeout,
    saslEnabled,
    saslPasswordFile,
    authFile,
    httpPort: v["http-port"] === undefined
      ? 8000
      : parseNumber("--http-port", v["http-port"], 0, 65535),
    httpHost: v["http-host"] ?? "127.0.0.1",
    httpToken: httpToken(v["http-token"], v["http-token-file"], env[HTTP_TOKEN_ENV]),
    debugTime: !!v["enable-debugtime"],
    logFormat: logFormat(v["log-format"]),
    pidFile: v.pidfile ?? null,
    portFile: env[PORT_FILE_ENV] || null,
    httpTokenOnCommandLine: v["http-token"] !== undefined,
    ...hardeningConfig(v),
    reqsPerEvent: v["max-reqs-per-event"] === undefined
      ? 20
      : parseNumber("-R", v["max-reqs-per-event"], 1, 2 ** 31),
    prefixDelimiter,
    dumpEnabled: !v["disable-dumping"],
    watchEnabled: !v["disable-watch"],
    watcherBufferBytes,
    lruCrawler,
    lruMaintainer,
    persist,
    tls: parseTlsConfig(v, port),
    ignored,
  };
  return { config } as const;
}

/**
 * As memcached: SASL (-S) is for the binary protocol only and -Y for the text protocol only, so
 * either one alone binds that protocol. With both, each protocol asks for its own credentials.
 */
function authProtocol(
  protocol: Config["protocol"],
  chosen: boolean,
  saslEnabled: boolean,
  authFile: string | null,
): Config["protocol"] {
  if (saslEnabled === (authFile !== null)) return protocol;
  const only = saslEnabled ? "binary" : "ascii";
  if (chosen && protocol !== only) {
    throw new UsageError(
      saslEnabled
        ? "-S (SASL) works with the binary protocol only: drop -B or use -B binary"
        : "-Y (text protocol authentication) works with the ascii protocol only: drop -B or use -B ascii",
    );
  }
  return only;
}

/** Fails start-up on a password file that cannot be read or parsed, instead of refusing everyone. */
function checkPasswordFiles(
  saslEnabled: boolean,
  saslFile: string | null,
  authFile: string | null,
) {
  if (saslEnabled && saslFile === null) {
    throw new UsageError(
      `-S needs a password file of user:password lines: -o sasl_password_file=PATH or $${SASL_PWDB_ENV}`,
    );
  }
  for (const path of [saslEnabled ? saslFile : null, authFile]) {
    if (path === null) continue;
    try {
      passwordFile(path);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
}

export { parseSize, UsageError } from "./config_values.ts";

/**
 * With -S or -Y the memcached port needs credentials; the HTTP API serves the same data, so it
 * must not start without its own (--http-token) unless --http-insecure says so. The complaint, or
 * null when the configuration is fine.
 */
export function httpCredentialsProblem(config: Config): string | null {
  if (config.httpPort === 0 || config.httpToken !== null || config.httpInsecure) return null;
  if (!config.saslEnabled && config.authFile === null) return null;
  return "-S/-Y protect the memcached port, but the HTTP API would serve the same data without " +
    `credentials: give --http-token (or $${HTTP_TOKEN_ENV}), --http-port=0, or --http-insecure`;
}
