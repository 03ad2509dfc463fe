import { configure, getConsoleSink, getLogger, type LogLevel } from "@logtape/logtape";

/** Sets up LogTape once: the start-up line by default, -v adds connections, -vv everything. */
export async function setupLogging(verbosity: number): Promise<void> {
  const level: LogLevel = verbosity >= 2 ? "trace" : verbosity === 1 ? "debug" : "info";
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
