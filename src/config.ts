import { parseArgs } from "node:util";
import { passwordFile } from "./auth.ts";

/** Everything the command line sets. Defaults are memcached's, except addresses (loopback). */
export interface Config {
  port: number;
  listen: string;
  udpPort: number;
  unixSocket: string | null;
  unixMask: number;
  maxBytes: number;
  maxConnections: number;
  itemSizeMax: number;
  evictions: boolean;
  casEnabled: boolean;
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
  /** Persistence (src/persist): `-e PATH`, `--persist-log DIR`, `--fsync`, `--persist-repair`. */
  persist: PersistConfig;
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
/** The only environment variables read; `deno task start` grants access to just these. */
export const ENV_VARS = [HTTP_TOKEN_ENV, SASL_PWDB_ENV];

export class UsageError extends Error {}

export const USAGE = `Usage: deno task start -- [options]

memcached flags:
  -p, --port=<num>          TCP port to listen on (default 11211, 0 = off)
  -l, --listen=<addr>       interface to listen on (default 127.0.0.1)
  -s, --unix-socket=<file>  UNIX socket to listen on (disables TCP unless -p is given)
  -a, --unix-mask=<mask>    access mask for the UNIX socket, in octal (default 700)
  -m, --memory-limit=<mb>   item memory in megabytes (default 64)
  -c, --conn-limit=<num>    max simultaneous connections (default 1024)
  -I, --max-item-size=<n>   largest item, with k/m suffix (default 1m)
  -M, --disable-evictions   return an error on memory exhausted instead of evicting
  -C, --disable-cas         disable use of CAS
  -A, --enable-shutdown     enable the ascii "shutdown" command
  -S, --enable-sasl         require SASL PLAIN authentication (binary protocol only);
                            passwords: -o sasl_password_file=<file> or $MEMCACHED_SASL_PWDB
  -Y, --auth-file=<file>    require text protocol authentication (ascii protocol only)
                            password files hold user:password lines
  -B, --protocol=<name>     auto, ascii or binary (default auto)
  -v, --verbose             verbose logging; -vv very verbose
  -o, --extended=<opts>     comma separated: idle_timeout=N, sasl_password_file=PATH, ...
  -h, --help                print this help and exit
  -V, --version             print version and exit
  -e, --memory-file=<file>  save items there on a clean stop, load them at start
  accepted and ignored here: -t -u -U -R -b -f -n -L -k -r -d -P -F -D -T -X -W

own flags:
  --http-port=<num>         HTTP API port (default 8000, 0 = off)
  --http-host=<addr>        HTTP API address (default 127.0.0.1)
  --http-token=<token>      require "Authorization: Bearer <token>" (or $${HTTP_TOKEN_ENV})
  --enable-debugtime        accept "debugtime <seconds>" to move the clock (for tests)
  --persist-log=<dir>       log every change there, so a crash loses at most what --fsync allows
  --fsync=<mode>            always (before each reply), everysec (default) or no
  --persist-repair          start even if a log or snapshot is damaged, keeping what precedes it
  --persist-rewrite-size=<n> rewrite the log from a snapshot past this size (default 64m)
`;

/** Parses "64", "1k", "2m", "1g" into bytes. */
export function parseSize(text: string): number | null {
  const m = /^(\d+)([kmgKMG]?)$/.exec(text);
  if (!m) return null;
  const unit = { "": 1, k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 }[m[2].toLowerCase()]!;
  return Number(m[1]) * unit;
}

function parseNumber(name: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`option ${name} needs a number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`option ${name} must be in ${min}..${max}`);
  return n;
}

export type ParseResult = { config: Config } | { exit: "help" | "version" };

export function parseConfig(
  args: string[],
  env: Record<string, string | undefined> = {},
): ParseResult {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string", short: "p" },
        listen: { type: "string", short: "l" },
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
        "enable-debugtime": { type: "boolean" },
        "persist-log": { type: "string" },
        fsync: { type: "string" },
        "persist-repair": { type: "boolean" },
        "persist-rewrite-size": { type: "string" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return { exit: "help" } as const;
  if (v.version) return { exit: "version" } as const;

  const ignored: string[] = [];
  const ignore = (flag: string, why: string) => ignored.push(`${flag} (${why})`);
  if (v.threads !== undefined) ignore("-t", "one event loop serves all connections");
  if (v.user !== undefined) ignore("-u", "run as the user you start it as");
  if (v["max-reqs-per-event"] !== undefined) ignore("-R", "no per-event request cap");
  if (v["listen-backlog"] !== undefined) ignore("-b", "the runtime sets the backlog");
  if (v["slab-growth-factor"] !== undefined) ignore("-f", "no slab classes to tune");
  if (v["slab-min-size"] !== undefined) ignore("-n", "no slab classes to tune");
  if (v["enable-largepages"]) ignore("-L", "no large pages");
  if (v["lock-memory"]) ignore("-k", "memory is not locked");
  if (v["enable-coredumps"]) ignore("-r", "core limits are the shell's");
  if (v.daemon) ignore("-d", "run it under a supervisor instead");
  if (v.pidfile !== undefined) ignore("-P", "no pid file is written");
  if (v["disable-flush-all"]) ignore("-F", "flush_all stays enabled");
  if (v["disable-dumping"]) ignore("-X", "no dump commands to disable");
  if (v["disable-watch"]) ignore("-W", "no watch command to disable");
  if (v["napi-ids"] !== undefined) ignore("-N", "no NAPI ids");
  if (v["stat-key-prefix"] !== undefined) ignore("-D", "no detailed stats");

  const udpPort = v["udp-port"] === undefined ? 0 : parseNumber("-U", v["udp-port"], 0, 65535);
  if (udpPort !== 0) ignore("-U", "UDP is not served");

  const itemSizeMax = v["max-item-size"] === undefined
    ? 1024 * 1024
    : parseSize(v["max-item-size"]);
  if (itemSizeMax === null || itemSizeMax < 1024 || itemSizeMax > 1024 * 1024 * 1024) {
    throw new UsageError(
      `option -I needs a size from 1k to 1g (k/m suffix), got "${v["max-item-size"]}"`,
    );
  }
  const memoryMb = v["memory-limit"] === undefined
    ? 64
    : parseNumber("-m", v["memory-limit"], 1, 1024 * 1024);

  const protocol = v.protocol ?? "auto";
  if (protocol !== "auto" && protocol !== "ascii" && protocol !== "binary") {
    throw new UsageError(`option -B must be auto, ascii or binary, got "${protocol}"`);
  }
  const mask = v["unix-mask"] ?? "700";
  if (!/^[0-7]{1,4}$/.test(mask)) throw new UsageError(`option -a needs an octal mask`);

  let idleTimeout = 0;
  let saslPasswordFile: string | null = env[SASL_PWDB_ENV] ?? null;
  for (const group of v.extended ?? []) {
    for (const item of group.split(",")) {
      if (item === "") continue;
      const eq = item.indexOf("=");
      const key = eq === -1 ? item : item.slice(0, eq);
      const value = eq === -1 ? "" : item.slice(eq + 1);
      if (key === "idle_timeout") idleTimeout = parseNumber("-o idle_timeout", value, 0, 2 ** 31);
      else if (key === "sasl_password_file") saslPasswordFile = value;
      else ignore(`-o ${key}`, "no such tuning here");
    }
  }

  const unixSocket = v["unix-socket"] ?? null;
  // As memcached: a unix socket replaces TCP unless a port is asked for explicitly.
  const port = v.port !== undefined
    ? parseNumber("-p", v.port, 0, 65535)
    : unixSocket !== null
    ? 0
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
    listen: v.listen ?? "127.0.0.1",
    udpPort,
    unixSocket,
    unixMask: parseInt(mask, 8),
    maxBytes: memoryMb * 1024 * 1024,
    maxConnections: v["conn-limit"] === undefined
      ? 1024
      : parseNumber("-c", v["conn-limit"], 1, 1_000_000),
    itemSizeMax,
    evictions: !v["disable-evictions"],
    casEnabled: !v["disable-cas"],
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
    httpToken: v["http-token"] ?? env[HTTP_TOKEN_ENV] ?? null,
    debugTime: !!v["enable-debugtime"],
    persist,
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
