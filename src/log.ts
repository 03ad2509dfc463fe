import { configure, getConsoleSink, getLogger, type LogLevel } from "@logtape/logtape";

/** Sets up LogTape once: -v shows connections, -vv every command's trouble. */
export async function setupLogging(verbosity: number): Promise<void> {
  const level: LogLevel = verbosity >= 2 ? "debug" : verbosity === 1 ? "info" : "info";
  await configure({
    reset: true,
    sinks: { console: getConsoleSink() },
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
      { category: ["memcached"], lowestLevel: level, sinks: ["console"] },
    ],
  });
}

export const log = getLogger(["memcached"]);
