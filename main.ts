/**
 * The composition root: reads the command line, sets up logging, opens the one store and every door
 * the configuration asks for (memcached over TCP and unix sockets, HTTP), and stops them on a signal.
 */
import { createHttpDoor } from "./routes/app.ts";
import { Clock } from "./src/clock.ts";
import { type Config, ENV_VARS, parseConfig, USAGE, UsageError } from "./src/config.ts";
import { type ServerContext, VERSION } from "./src/context.ts";
import { log, setupLogging } from "./src/log.ts";
import { memcachedSessions } from "./src/protocol/sessions.ts";
import { acceptLoop, startIdleReaper } from "./src/server/listener.ts";
import { PersistStartError } from "./src/persist/load.ts";
import { openStore } from "./src/persist/persistence.ts";

export interface RunningServer {
  ctx: ServerContext;
  /** Bound memcached TCP port (0 when off). */
  port: number;
  /** Bound HTTP port (0 when off). */
  httpPort: number;
  /** Resolves once a shutdown was asked for (signal or the `shutdown` command). */
  shutdownRequested: Promise<void>;
  /** Stops accepting, lets in-flight connections finish, closes everything. */
  stop(): Promise<void>;
}

/** Opens the one store and every door the configuration asks for. */
export function startServer(config: Config): RunningServer {
  const clock = new Clock();
  clock.start();
  const { store, persistence } = openStore(clock, config);
  store.startSweeper();

  let requestShutdown!: () => void;
  const shutdownRequested = new Promise<void>((resolve) => (requestShutdown = resolve));
  const ctx: ServerContext = {
    store,
    config,
    connections: new Set(),
    requestShutdown,
    persistence: persistence ?? undefined,
  };

  const listeners: Deno.Listener[] = [];
  let port = 0;
  if (config.port !== 0) {
    const tcp = Deno.listen({ hostname: config.listen, port: config.port, transport: "tcp" });
    listeners.push(tcp);
    port = (tcp.addr as Deno.NetAddr).port;
  }
  if (config.unixSocket !== null) {
    try {
      Deno.removeSync(config.unixSocket);
    } catch { /* not there */ }
    const unix = Deno.listen({ path: config.unixSocket, transport: "unix" });
    Deno.chmodSync(config.unixSocket, 0o777 & ~(~config.unixMask & 0o777) & config.unixMask);
    listeners.push(unix);
  }
  const sessions = memcachedSessions(ctx);
  const loops = listeners.map((l) => acceptLoop(ctx, l, sessions));
  const reaper = startIdleReaper(ctx);

  let http: Deno.HttpServer<Deno.NetAddr> | null = null;
  let httpPort = 0;
  if (config.httpPort !== 0) {
    const door = createHttpDoor(ctx);
    http = Deno.serve(
      { hostname: config.httpHost, port: config.httpPort, onListen: () => {} },
      door.fetch,
    );
    httpPort = http.addr.port;
  }

  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      for (const l of listeners) l.close();
      if (reaper !== undefined) clearInterval(reaper);
      // Give in-flight requests a moment, then close whatever is still open.
      const grace = new Promise((r) => setTimeout(r, 200));
      await Promise.race([Promise.allSettled(loops), grace]);
      for (const c of ctx.connections) c.close();
      await Promise.allSettled(loops);
      if (http !== null) await http.shutdown();
      store.stopSweeper();
      await persistence?.stop();
      clock.stop();
      if (config.unixSocket !== null) {
        try {
          Deno.removeSync(config.unixSocket);
        } catch { /* gone */ }
      }
      log.info("stopped");
    })();
    return stopped;
  };

  return { ctx, port, httpPort, shutdownRequested, stop };
}

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

  let server: RunningServer;
  try {
    server = startServer(config);
  } catch (err) {
    if (!(err instanceof PersistStartError)) throw err;
    console.error(`error: ${err.message}`);
    return 65;
  }
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

  // With a file-size limit (ulimit -f), a write past it fails with EFBIG once SIGXFSZ is handled
  // instead of killing the process; persistence counts that as a failing disk and keeps serving.
  if (server.ctx.persistence !== undefined) Deno.addSignalListener("SIGXFSZ", () => {});
  const onSignal = () => server.ctx.requestShutdown();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  // memcached's warm restart stops on SIGUSR1; so does this server, saving with -e or a log.
  Deno.addSignalListener("SIGUSR1", onSignal);
  await server.shutdownRequested;
  log.info("shutting down");
  await server.stop();
  return 0;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

if (import.meta.main) Deno.exit(await main(Deno.args));
