import { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { log } from "../log.ts";
import { Store } from "../store/store.ts";
import "../protocol/binary.ts";
import "../protocol/meta.ts";
import { createApp } from "../../routes/app.ts";
import type { ServerContext } from "./context.ts";
import { acceptLoop, startIdleReaper } from "./listener.ts";

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
  const store = new Store(clock, {
    maxBytes: config.maxBytes,
    itemSizeMax: config.itemSizeMax,
    evict: config.evictions,
    casEnabled: config.casEnabled,
  });
  store.startSweeper();

  let requestShutdown!: () => void;
  const shutdownRequested = new Promise<void>((resolve) => (requestShutdown = resolve));
  const stopping = new AbortController();
  const ctx: ServerContext = {
    store,
    config,
    connections: new Set(),
    requestShutdown,
    stopping: stopping.signal,
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
  const loops = listeners.map((l) => acceptLoop(ctx, l));
  const reaper = startIdleReaper(ctx);

  let http: Deno.HttpServer<Deno.NetAddr> | null = null;
  let httpPort = 0;
  if (config.httpPort !== 0) {
    const app = createApp(ctx);
    http = Deno.serve({
      hostname: config.httpHost,
      port: config.httpPort,
      onListen: () => {},
    }, app.fetch);
    httpPort = http.addr.port;
  }

  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      stopping.abort();
      for (const l of listeners) l.close();
      if (reaper !== undefined) clearInterval(reaper);
      // Give in-flight requests a moment, then close whatever is still open.
      const grace = new Promise((r) => setTimeout(r, 200));
      await Promise.race([Promise.allSettled(loops), grace]);
      for (const c of ctx.connections) c.close();
      await Promise.allSettled(loops);
      if (http !== null) await http.shutdown();
      store.stopSweeper();
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
