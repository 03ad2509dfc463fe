/**
 * The parsers of single command-line values: sizes, numbers in a range, and the flags whose checks
 * and words follow memcached's (-I, -p -1) or ours (--log-format, --http-token-file).
 */
const ONE_GIGABYTE = 1024 * 1024 * 1024;

/** A command line memcached would refuse: one line, and memcached's exit status for it. */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = 64) {
    super(message);
  }
}

/** One row of counters per thread (stats.ts). */
const MAX_THREADS = 64;

/** -t: memcached's own check and message (exit status 1) first, then our limit. */
export function parseThreads(text: string | undefined): number {
  if (text === undefined) return 1;
  if (!/^\d+$/.test(text) || Number(text) <= 0) {
    throw new UsageError("Number of threads must be greater than 0", 1);
  }
  const threads = Number(text);
  if (threads > MAX_THREADS) throw new UsageError(`-t ${threads}: at most ${MAX_THREADS} threads`);
  return threads;
}

/** Parses "64", "1k", "2m", "1g" into bytes. */
export function parseSize(text: string): number | null {
  const m = /^(\d+)([kmgKMG]?)$/.exec(text);
  if (!m) return null;
  const unit = { "": 1, k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 }[m[2].toLowerCase()]!;
  return Number(m[1]) * unit;
}

export function parseNumber(name: string, text: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(text)) throw new UsageError(`option ${name} needs a number, got "${text}"`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`option ${name} must be in ${min}..${max}`);
  return n;
}

/** memcached's -I checks, in its order and words (exit status 64). */
export function checkItemSize(itemSizeMax: number, maxBytes: number) {
  if (itemSizeMax < 1024) throw new UsageError("Item max size cannot be less than 1024 bytes.");
  if (itemSizeMax > maxBytes / 2) {
    throw new UsageError("Cannot set item size limit higher than 1/2 of memory max.");
  }
  if (itemSizeMax > ONE_GIGABYTE) {
    throw new UsageError("Cannot set item size limit higher than a gigabyte.");
  }
}

export function logFormat(text: string | undefined): "text" | "json" {
  if (text === undefined || text === "text") return "text";
  if (text === "json") return "json";
  throw new UsageError(`option --log-format must be text or json, got "${text}"`);
}

/** The HTTP token: the command line, else the first line of the token file, else the environment. */
export function httpToken(
  onCommandLine: string | undefined,
  file: string | undefined,
  fromEnv: string | undefined,
): string | null {
  if (onCommandLine !== undefined && file !== undefined) {
    throw new UsageError("give --http-token or --http-token-file, not both");
  }
  if (file === undefined) return onCommandLine ?? (fromEnv || null);
  let text;
  try {
    text = Deno.readTextFileSync(file);
  } catch (err) {
    throw new UsageError(`--http-token-file ${file}: ${(err as Error).message}`);
  }
  const token = text.split(/\r?\n/)[0].trim();
  if (token === "" || /\s/.test(token)) {
    throw new UsageError(`--http-token-file ${file}: the first line must hold the token`);
  }
  return token;
}

/** memcached takes `-p -1`; parseArgs would read the `-1` as a flag, so it is joined: `-p-1`. */
export function joinNegativePorts(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const portFlag = flag === "-p" || flag === "-U" || flag === "--port" || flag === "--udp-port";
    if (portFlag && /^-\d+$/.test(args[i + 1] ?? "")) {
      out.push(flag.startsWith("--") ? `${flag}=${args[++i]}` : `${flag}${args[++i]}`);
    } else {
      out.push(flag);
    }
  }
  return out;
}

/** The bounds on what clients can make the server hold, and how long shutdown waits. */
export function hardeningConfig(
  v: Record<string, string | boolean | (string | boolean)[] | undefined>,
) {
  const text = (name: string) => v[name] as string | undefined;
  const inflight = text("max-inflight") === undefined ? 64 << 20 : parseSize(text("max-inflight")!);
  if (inflight === null || inflight < 1024 * 1024) {
    throw new UsageError(
      `option --max-inflight needs a size of at least 1m, got "${text("max-inflight")}"`,
    );
  }
  const connText = text("http-conn-limit");
  const graceText = text("shutdown-grace");
  const timeoutText = text("http-timeout");
  const idleText = text("http-idle-timeout");
  return {
    maxInflightBytes: inflight,
    httpConnLimit: connText === undefined
      ? 1024
      : parseNumber("--http-conn-limit", connText, 1, 1_000_000),
    clientDescriptors: Infinity,
    httpInsecure: !!v["http-insecure"],
    shutdownGraceMs: graceText === undefined
      ? 2000
      : parseNumber("--shutdown-grace", graceText, 0, 600_000),
    httpTimeoutMs: timeoutText === undefined
      ? 10_000
      : parseNumber("--http-timeout", timeoutText, 100, 3_600_000),
    httpIdleTimeoutMs: idleText === undefined
      ? 60_000
      : parseNumber("--http-idle-timeout", idleText, 100, 3_600_000),
  };
}
