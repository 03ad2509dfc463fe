/**
 * The composition root: reads the command line, sets up logging, opens the one store and every door
 * the configuration asks for (memcached over TCP and unix sockets, HTTP), and stops them on a signal.
 */
import { Clock } from "./src/clock.ts";
import {
  type Config,
  ENV_VARS,
  httpCredentialsProblem,
  parseConfig,
  UsageError,
} from "./src/config.ts";
import { httpTls } from "./src/config_tls.ts";
import { type ServerContext, VERSION } from "./src/context.ts";
import { ConnectionTable, SPARE_SLOTS } from "./src/introspect/conns.ts";
import { introspection } from "./src/introspect/introspection.ts";
import { followVerbosity, log, setupLogging } from "./src/log.ts";
import { memcachedSessions } from "./src/protocol/sessions.ts";
import { Limits, LIMITS_BYTES } from "./src/limits.ts";
import { countingRefused, DescriptorError, fitDescriptors } from "./src/server/descriptors.ts";
import { acceptLoop, describe, startIdleReaper } from "./src/server/listener.ts";
import { numberConnections } from "./src/server/connection.ts";
import type { HttpServer } from "./src/server/http/server.ts";
import { TlsSetupError } from "./src/server/tls/setup_error.ts";
import type { UdpDoor, UdpSocket } from "./src/server/udp.ts";
import {
  bindOrExplain,
  clearStaleSocket,
  LISTEN_FAILED,
  listenAddresses,
  ListenError,
  listenOrExplain,
  portFileLines,
  type PortSharing,
  refuseTakenPort,
  removeIfThere,
  writeFileAtomically,
} from "./src/startup.ts";
import { USAGE } from "./src/usage.ts";
import { SERVER_NAME, SERVER_VERSION } from "./src/version.ts";
import { PersistStartError } from "./src/persist/start_error.ts";
import { openPlainStore, persisting } from "./src/store/open.ts";
import type { Store } from "./src/store/store.ts";
import {
  type FromWorker,
  spawnThreads,
  type ThreadRole,
  type Threads,
  type ToWorker,
} from "./src/threads.ts";

export interface RunningServer {
  ctx: ServerContext;
  /** Bound memcached TCP port, of the first -l address (0 when off). */
  port: number;
  /** Every memcached TCP listener's address (one per -l address). */
  tcpAddrs: Deno.NetAddr[];
  /** Every memcached UDP socket's address (-U; one per -l address). */
  udpAddrs: Deno.NetAddr[];
  /** Bound HTTP port (0 when off). */
  httpPort: number;
  /** Resolves once a shutdown was asked for (signal or the `shutdown` command). */
  shutdownRequested: Promise<void>;
  /** Stops accepting, lets in-flight connections finish, closes everything. */
  stop(): Promise<void>;
}

/**
 * Opens the one store and every door the configuration asks for; throws ListenError. With -t N it
 * starts N - 1 worker threads too. A worker thread (`role`) maps the store worker 0 created and
 * opens only its own TCP and HTTP listeners on worker 0's ports: UDP, the unix socket, the sweeper
 * and persistence stay with worker 0.
 */
export async function startServer(config: Config, role?: ThreadRole): Promise<RunningServer> {
  const clock = new Clock(role?.clock);
  clock.start();
  const parts = await loadParts(config, role);
  const tlsDoors = parts.tls;
  // Each thread builds its own from the configuration. A certificate that cannot serve stops
  // start-up (exit 64) before the store opens: -e's snapshot is removed once loaded.
  const tls = tlsDoors?.createTls(config, clock) ?? null;
  const share = role && { buffers: role.store, worker: role.index };
  const { store, persistence } = parts.persist !== null
    ? parts.persist.openStore(clock, config, share)
    : openPlainStore(clock, config, share);
  if (role === undefined && config.lruMaintainer) store.startSweeper();
  // Every thread's listener on a port must ask for SO_REUSEPORT, and then the kernel spreads the
  // port's connections over them.
  const sharing: PortSharing = { reusePort: config.threads > 1, checkFree: role === undefined };
  numberConnections(role?.index ?? 0, config.threads);

  let requestShutdown!: () => void;
  const shutdownRequested = new Promise<void>((resolve) => (requestShutdown = resolve));
  const stopping = new AbortController();
  // Sized by thread 0 for -c as given (the descriptors may lower -c once the doors are bound);
  // the other threads lay theirs over the same buffer with its size.
  const table = config.threads > 1
    ? connectionTable(role?.connectionSlots ?? config.maxConnections + SPARE_SLOTS, store, clock)
    : undefined;
  const ctx: ServerContext = {
    store,
    config,
    connections: new Set(),
    connectionTable: table,
    limits: new Limits(
      config.maxInflightBytes,
      config.clientDescriptors,
      store.memory.take("limits", LIMITS_BYTES),
    ),
    requestShutdown,
    stopping: stopping.signal,
    persistence: persistence ?? undefined,
    tls: tls ?? undefined,
  };
  // Hot-key sampling starts with the server, not with the first question about it; the
  // `verbosity` command reaches this thread's log through it.
  introspection(ctx).followVerbosity = followVerbosity;

  // The HTTP app is built before any door opens, so that the doors open together: a client that
  // finds memcached answering finds HTTP answering too. At -vv every request is logged, so none
  // takes the fast path around the log.
  const door = parts.app?.createHttpDoor(ctx) ?? null;
  const httpHandler = door === null || parts.requestLog === null
    ? door
    : { fetch: parts.requestLog.logRequests(door.fetch), plainRead: null };

  const listeners: Deno.Listener[] = [];
  const tcpAddrs: Deno.NetAddr[] = [];
  const tcpTls: boolean[] = [];
  const udpSockets: UdpSocket[] = [];
  let httpListener: Deno.TcpListener | null = null;
  let httpPort = 0;
  try {
    // Before the other doors, which then bind together (binding UDP waits).
    if (parts.udp !== null) {
      const { bindUdp } = parts.udp;
      const udpPort = Math.max(config.udpPort, 0);
      for (const addr of listenAddresses(config.listen, udpPort, config.tls.enabled)) {
        const where = `${addr.hostname}:${addr.port}`;
        udpSockets.push(
          await bindOrExplain("memcached UDP", where, () => bindUdp(addr.hostname, addr.port)),
        );
      }
    }
    if (config.port !== 0) {
      // With ssl_session_cache, thread 0 alone serves the TLS addresses: a session resumes only
      // in the isolate that issued it (Deno's node:tls keeps its ticket keys per isolate).
      const addrs = role?.tcp.filter((a) => !(a.tls && config.tls.sessionCache)) ??
        listenAddresses(config.listen, Math.max(config.port, 0), config.tls.enabled);
      for (const addr of addrs) {
        const tcp = await bindOrExplain(
          "memcached TCP",
          `${addr.hostname}:${addr.port}`,
          () => {
            const plain = () => listenTcp({ ...addr, tcpBacklog: config.tcpBacklog }, sharing);
            return tlsDoors === null
              ? Promise.resolve(plain())
              : tlsDoors.listenMemcachedTcp(ctx, addr, tls, plain, sharing);
          },
        );
        listeners.push(tcp);
        tcpAddrs.push(tcp.addr as Deno.NetAddr);
        tcpTls.push(addr.tls);
      }
    }
    const path = config.unixSocket;
    if (path !== null && role === undefined) {
      clearStaleSocket(path);
      const unix = listenOrExplain("memcached unix socket", path, () => {
        const listener = Deno.listen({ path, transport: "unix" });
        Deno.chmodSync(path, config.unixMask & 0o777);
        return listener;
      });
      listeners.push(unix);
    }
    if (httpHandler !== null) {
      const port = role?.httpPort ?? config.httpPort;
      const listener = await bindOrExplain(
        "HTTP",
        `${config.httpHost}:${port}`,
        () => {
          const plain = () => listenTcp({ hostname: config.httpHost, port }, sharing);
          return tlsDoors === null
            ? Promise.resolve(plain())
            : tlsDoors.listenHttp(ctx, port, tls, plain, sharing);
        },
      );
      httpListener = listener;
      httpPort = listener.addr.port;
    }
    // Thread 0 counts the descriptors left for clients once its doors are bound: counting takes
    // tens of ms, and a client that connects meanwhile waits in the backlog rather than finding
    // the port closed (python-binary-memcached's TLS fixture connects 0.1 s after the start).
    // Nothing is accepted until the count is done.
    if (role === undefined) fitDescriptors(ctx);
  } catch (err) {
    for (const l of listeners) l.close();
    httpListener?.close();
    for (const s of udpSockets) s.close();
    store.stopSweeper();
    clock.stop();
    throw err;
  }
  // The other threads open their doors before this one accepts anything: clients waiting in the
  // backlog hold no descriptor, so none can take the ones the threads need to start. They start
  // only now because counting the descriptors opens every free one for a moment: a thread loading
  // its modules meanwhile failed with "Too many open files" under a low ulimit -n.
  let threads: Threads | null = null;
  if (role === undefined && config.threads > 1) {
    const spawned = spawnThreads(new URL(import.meta.url), config.threads, {
      onShutdown: () => ctx.requestShutdown(),
      onRefreshCerts: (from) => {
        tls?.reload();
        threads?.refreshCerts(from);
      },
    });
    try {
      threads = await spawned.open({
        config,
        store: store.memory.buffers,
        clock: clock.buffer,
        tcp: tcpAddrs.map((a, i) => ({ hostname: a.hostname, port: a.port, tls: tcpTls[i] })),
        httpPort,
        connectionSlots: table!.capacity,
      });
    } catch (err) {
      for (const l of [...listeners, ...(httpListener === null ? [] : [httpListener])]) l.close();
      for (const s of udpSockets) s.close();
      store.stopSweeper();
      clock.stop();
      throw new ListenError("worker thread", `-t ${config.threads}`, (err as Error).message);
    }
    // refresh_certs on this thread: the others reload too (a worker's goes through onRefreshCerts).
    if (tls !== null) tls.onRefreshed = () => threads?.refreshCerts(0);
  }
  const sessions = memcachedSessions(ctx);
  const loops = listeners.map((l) => acceptLoop(ctx, l, sessions));
  const udp: UdpDoor[] = udpSockets.map((s) => parts.udp!.serveUdp(ctx, s, sessions));
  const http: HttpServer | null = httpListener === null || httpHandler === null
    ? null
    : parts.httpServer!.serveHttp(ctx, httpListener, httpHandler);
  const reaper = startIdleReaper(ctx);

  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      stopping.abort();
      const threadsDone = threads?.stop();
      for (const l of listeners) l.close();
      for (const u of udp) u.close();
      if (reaper !== undefined) clearInterval(reaper);
      // In-flight requests get the grace period (--shutdown-grace); then every connection is
      // closed, so a body still arriving or an answer nobody reads cannot hold up the exit.
      const grace = sleep(config.shutdownGraceMs);
      const httpDone = http === null ? Promise.resolve() : http.shutdown();
      await Promise.race([Promise.allSettled([...loops, httpDone]), grace]);
      for (const c of ctx.connections) c.close();
      http?.closeAll();
      await Promise.race([Promise.allSettled([...loops, httpDone]), sleep(500)]);
      await threadsDone;
      introspection(ctx).watch.close();
      store.stopSweeper();
      await persistence?.stop();
      clock.stop();
      if (config.unixSocket !== null) {
        try {
          Deno.removeSync(config.unixSocket);
        } catch { /* gone */ }
      }
      if (role === undefined) log.info("stopped");
    })();
    return stopped;
  };

  const udpAddrs = udp.map((u) => u.addr);
  return {
    ctx,
    port: tcpAddrs[0]?.port ?? 0,
    tcpAddrs,
    udpAddrs,
    httpPort,
    shutdownRequested,
    stop,
  };
}

/**
 * The modules this command line needs beyond the core, loaded together; the others are never
 * loaded. node:tls and the certificate checks, the HTTP app, UDP and persistence each cost start-up
 * time, and a client's test fixture may connect 0.1 s after starting the server.
 */
async function loadParts(config: Config, role?: ThreadRole) {
  const http = config.httpPort !== 0;
  const [tls, persist, app, requestLog, httpServer, udp] = await Promise.all([
    config.tls.enabled || httpTls(config.tls) ? import("./src/server/tls.ts") : null,
    persisting(config) ? import("./src/persist/persistence.ts") : null,
    http ? import("./routes/app.ts") : null,
    http && config.verbosity >= 2 ? import("./routes/request_log.ts") : null,
    http ? import("./src/server/http/server.ts") : null,
    role === undefined && config.udpPort !== 0 ? import("./src/server/udp.ts") : null,
  ]);
  return { tls, persist, app, requestLog, httpServer, udp };
}

async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseConfig(args, Object.fromEntries(ENV_VARS.map((v) => [v, readEnv(v)])));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(err.message);
    return err.exitCode;
  }
  if ("exit" in parsed) {
    console.log(
      parsed.exit === "help"
        ? USAGE
        : `${SERVER_NAME} ${SERVER_VERSION} (memcached ${VERSION} protocol)`,
    );
    return 0;
  }
  const config = parsed.config;
  setupLogging(config.verbosity, config.logFormat);
  for (const flag of config.ignored) log.warn("ignoring {flag}", { flag });
  if (config.httpTokenOnCommandLine) {
    log.warn(
      "--http-token shows the token in process lists: use --http-token-file or $MEMCACHED_HTTP_TOKEN",
    );
  }

  const credentials = httpCredentialsProblem(config);
  if (credentials !== null) {
    console.error(`error: ${credentials}`);
    return 64;
  }
  const refused = countingRefused();
  if (refused !== null) {
    console.error(refused);
    return 71; // EX_OSERR, as memcached
  }
  if (config.httpInsecure && config.httpPort !== 0 && config.httpToken === null) {
    log.warn("--http-insecure: the HTTP API serves every key without credentials despite -S/-Y");
  }
  // From before the first listener opens: with -t N a client may find the port while the other
  // threads are still starting, and signal then.
  let server: RunningServer | undefined;
  let signalled = false;
  const onSignal = () => server === undefined ? (signalled = true) : server.ctx.requestShutdown();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  // memcached's warm restart stops on SIGUSR1; so does this server, saving with -e or a log.
  Deno.addSignalListener("SIGUSR1", onSignal);
  try {
    server = await startServer(config);
  } catch (err) {
    if (err instanceof TlsSetupError) {
      console.error(err.message);
      return 64; // EX_USAGE, as memcached's ssl_init
    }
    if (err instanceof DescriptorError) {
      console.error(err.message);
      return 71; // EX_OSERR, as memcached
    }
    if (err instanceof PersistStartError) {
      console.error(`error: ${err.message}`);
      return 65;
    }
    if (!(err instanceof ListenError)) throw err;
    log.error(err.message);
    return LISTEN_FAILED;
  }
  if (signalled) server.ctx.requestShutdown();
  // With a file-size limit (ulimit -f), a write past it fails with EFBIG once SIGXFSZ is handled
  // instead of killing the process; persistence counts that as a failing disk and keeps serving.
  if (server.ctx.persistence !== undefined) Deno.addSignalListener("SIGXFSZ", () => {});
  if (config.pidFile !== null) writeFileAtomically(config.pidFile, `${Deno.pid}\n`);
  // As memcached: without a unix socket the file is written even when empty (-p 0).
  const ports = server.port !== 0 || server.udpAddrs.length > 0;
  if (config.portFile !== null && (ports || config.unixSocket === null)) {
    writeFileAtomically(config.portFile, portFileLines([...server.tcpAddrs, ...server.udpAddrs]));
  }
  const memcachedAddr = config.port === 0
    ? "off"
    : server.tcpAddrs.map((a) =>
      `${a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname}:${a.port}`
    )
      .join(", ");
  const scheme = httpTls(config.tls) ? "https" : "http";
  const httpAddr = config.httpPort === 0
    ? "off"
    : `${scheme}://${config.httpHost}:${server.httpPort}`;
  const unix = config.unixSocket ? ` and unix:${config.unixSocket}` : "";
  const udpAddr = server.udpAddrs.map((a) => ` and ${describe(a)}`).join("");
  // Pre-rendered so addresses print bare (LogTape quotes string placeholders).
  log.info(
    `${SERVER_NAME} ${SERVER_VERSION} listening: memcached ${memcachedAddr}${unix}${udpAddr}, HTTP ` +
      `${httpAddr}; memory limit ${config.maxBytes / 1024 / 1024} MB, item size max ` +
      `${config.itemSizeMax} bytes, ${config.threads} thread${config.threads > 1 ? "s" : ""}`,
  );
  if (config.httpPort !== 0 && config.httpToken === null && !isLoopback(config.httpHost)) {
    log.warn("the HTTP API listens on {host} without a token: anyone who can reach it can use it", {
      host: config.httpHost,
    });
  }

  await server.shutdownRequested;
  log.info("shutting down");
  await server.stop();
  if (config.pidFile !== null) removeIfThere(config.pidFile);
  return 0;
}

/** A variable the process may not read (an older --allow-env list) counts as unset. */
function readEnv(variable: string): string | undefined {
  const state = Deno.permissions.querySync({ name: "env", variable }).state;
  return state === "granted" ? Deno.env.get(variable) : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

/** -t N: the shared list of every thread's connections, sized for -c of them and the listeners. */
function connectionTable(capacity: number, store: Store, clock: Clock): ConnectionTable {
  const buffer = store.memory.take("conns", ConnectionTable.bytes(capacity));
  return new ConnectionTable(buffer, capacity, store.thread, clock.started);
}

/** A plain listener that may share its port with the other threads' (refuseTakenPort). */
function listenTcp(
  options: Deno.TcpListenOptions & { hostname: string; port: number },
  share: PortSharing,
): Deno.TcpListener {
  refuseTakenPort(options.hostname, options.port, share);
  return Deno.listen(share.reusePort ? { ...options, reusePort: true } : options);
}

/** Worker thread 1..N-1 of -t N: serves until worker 0 says stop (src/threads.ts). */
function serveAsWorker(): void {
  const scope = self as unknown as {
    onmessage: (e: MessageEvent<ToWorker>) => void;
    postMessage(m: FromWorker): void;
    close(): void;
  };
  let server: RunningServer | null = null;
  scope.onmessage = async (e) => {
    const m = e.data;
    if (m.type === "start") {
      setupLogging(m.role.config.verbosity, m.role.config.logFormat);
      try {
        server = await startServer(m.role.config, m.role);
      } catch (err) {
        scope.postMessage({ type: "failed", message: (err as Error).message });
        return;
      }
      server.shutdownRequested.then(() => scope.postMessage({ type: "shutdown" }));
      const tls = server.ctx.tls;
      if (tls !== undefined) tls.onRefreshed = () => scope.postMessage({ type: "refresh_certs" });
      scope.postMessage({ type: "ready" });
    } else if (m.type === "refresh_certs") {
      server?.ctx.tls?.reload();
    } else {
      await server?.stop();
      scope.postMessage({ type: "stopped" });
      scope.close();
    }
  };
}

if (import.meta.main) {
  if ("WorkerGlobalScope" in globalThis) serveAsWorker();
  else Deno.exit(await main(Deno.args));
}
