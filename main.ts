import { ENV_VARS, parseConfig, USAGE, UsageError } from "./src/config.ts";
import { log, setupLogging } from "./src/log.ts";
import { VERSION } from "./src/server/context.ts";
import { startServer } from "./src/server/server.ts";

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseConfig(args, Object.fromEntries(ENV_VARS.map((v) => [v, Deno.env.get(v)])));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`error: ${err.message}\n\n${USAGE}`);
    return 64;
  }
  if ("exit" in parsed) {
    console.log(parsed.exit === "help" ? USAGE : `memcached ${VERSION} (deno)`);
    return 0;
  }
  const config = parsed.config;
  await setupLogging(config.verbosity);
  for (const flag of config.ignored) log.warn("ignoring {flag}", { flag });

  const server = startServer(config);
  const memcachedAddr = config.port === 0 ? "off" : `${config.listen}:${server.port}`;
  const httpAddr = config.httpPort === 0 ? "off" : `http://${config.httpHost}:${server.httpPort}`;
  const unix = config.unixSocket ? ` and unix:${config.unixSocket}` : "";
  // Pre-rendered so addresses print bare (LogTape quotes string placeholders).
  log.info(
    `listening: memcached ${memcachedAddr}${unix}, HTTP ${httpAddr}; memory limit ` +
      `${config.maxBytes / 1024 / 1024} MB, item size max ${config.itemSizeMax} bytes`,
  );
  if (config.httpPort !== 0 && config.httpToken === null && !isLoopback(config.httpHost)) {
    log.warn("the HTTP API listens on {host} without a token: anyone who can reach it can use it", {
      host: config.httpHost,
    });
  }

  const onSignal = () => server.ctx.requestShutdown();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  await server.shutdownRequested;
  log.info("shutting down");
  await server.stop();
  return 0;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

Deno.exit(await main(Deno.args));
