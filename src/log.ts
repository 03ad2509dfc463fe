import {
  configureSync,
  getConsoleSink,
  getLogger,
  jsonLinesFormatter,
  type LogLevel,
} from "@logtape/logtape";

let format: "text" | "json" = "text";
/** The verbosity the log follows now; the `verbosity` command changes it while the server runs. */
let verbosity = -1;

/**
 * Sets up LogTape: the start-up line by default, -v adds connections and errors, -vv every
 * command and HTTP request; `json` writes one JSON object per line for log shippers.
 */
export function setupLogging(level: number, logFormat: "text" | "json"): void {
  format = logFormat;
  verbosity = -1;
  followVerbosity(level);
}

/** Logs at `level` (0, 1 = -v, 2 = -vv) from now on; nothing to do when it is already so. */
export function followVerbosity(level: number): void {
  if (level === verbosity) return;
  verbosity = level;
  const lowest: LogLevel = level >= 2 ? "trace" : level === 1 ? "debug" : "info";
  const console = format === "json"
    ? getConsoleSink({ formatter: jsonLinesFormatter })
    : getConsoleSink();
  configureSync({
    reset: true,
    sinks: { console },
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
      { category: ["memcached"], lowestLevel: lowest, sinks: ["console"] },
    ],
  });
}

export const log = getLogger(["memcached"]);

const commands = getLogger(["memcached", "command"]);

/** Control bytes would break the one-line-per-command log; they show as `?`. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/g;

/**
 * memcached's -vv line for a request, `<id get key`: the command line only, never a data block
 * (which may be a value or, with -Y, a password). Callers check `tracing` first.
 */
export function traceCommand(connection: number, line: string): void {
  commands.trace(`<${connection} ${line.replace(CONTROL, "?")}`);
}

/**
 * memcached's -vv lines for an answer: `>id sending key k` for each value and `>id END` for a
 * retrieval, else the answer's first line (STORED, NOT_FOUND, a number, an error). Never a value.
 */
export function traceAnswer(connection: number, answer: Uint8Array): void {
  let p = 0;
  while (startsWith(answer, p, "VALUE ")) {
    const eol = answer.indexOf(10, p);
    if (eol === -1) return;
    const words = latin1.decode(answer.subarray(p, eol)).trim().split(" ");
    commands.trace(`>${connection} sending key ${words[1].replace(CONTROL, "?")}`);
    p = eol + 1 + Number(words[3]) + 2;
  }
  const eol = answer.indexOf(13, p);
  if (eol > p) commands.trace(`>${connection} ${latin1.decode(answer.subarray(p, eol))}`);
}

function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

const latin1 = new TextDecoder("latin1");

/** True while -vv (or `verbosity 2`) asks for every command: read per command, so it is cheap. */
export function tracing(): boolean {
  return verbosity >= 2;
}
