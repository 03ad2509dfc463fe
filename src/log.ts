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

/** True when -vv asked for every command (checked once per session, not per request). */
export function tracing(): boolean {
  return commands.isEnabledFor("trace");
}
