import {
  configure,
  getConsoleSink,
  getLogger,
  jsonLinesFormatter,
  type LogLevel,
} from "@logtape/logtape";

/**
 * Sets up LogTape once: the start-up line by default, -v adds connections and errors, -vv every
 * command and HTTP request; `json` writes one JSON object per line for log shippers.
 */
export async function setupLogging(verbosity: number, format: "text" | "json"): Promise<void> {
  const level: LogLevel = verbosity >= 2 ? "trace" : verbosity === 1 ? "debug" : "info";
  const console = format === "json"
    ? getConsoleSink({ formatter: jsonLinesFormatter })
    : getConsoleSink();
  await configure({
    reset: true,
    sinks: { console },
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
      { category: ["memcached"], lowestLevel: level, sinks: ["console"] },
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

/** True when -vv asked for every command (checked once per session, not per request). */
export function tracing(): boolean {
  return commands.isEnabledFor("trace");
}
