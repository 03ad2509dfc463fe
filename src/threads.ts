/**
 * `-t N`: the main thread serves as worker 0 and starts N - 1 more, each running main.ts as a
 * Worker over the same store (shared memory) and the same ports (SO_REUSEPORT: the kernel spreads
 * new connections over the threads). The main thread supervises: a worker that fails stops the
 * process with one line and a non-zero status, for a supervisor to restart; nothing hangs.
 */
import type { Config } from "./config.ts";
import { log } from "./log.ts";
import type { StoreBuffers } from "./store/memory.ts";

/** What a worker thread needs to serve: plain data and shared buffers, structured-cloneable. */
export interface ThreadRole {
  index: number;
  config: Config;
  store: StoreBuffers;
  clock: SharedArrayBuffer;
  /** The memcached TCP addresses and the HTTP port worker 0 bound (ports resolved; TLS or not). */
  tcp: { hostname: string; port: number; tls: boolean }[];
  httpPort: number;
  /** The size of thread 0's connection table (-c as given, before the descriptors lowered it). */
  connectionSlots: number;
}

/** refresh_certs on one thread reloads the certificates of every thread's listeners. */
export type ToWorker = { type: "start"; role: ThreadRole } | { type: "stop" } | {
  type: "refresh_certs";
};
export type FromWorker =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "shutdown" }
  | { type: "refresh_certs" }
  | { type: "stopped" };

/** Exit status when a worker thread dies: EX_SOFTWARE. */
const WORKER_DIED = 70;
/** How long a stopping worker may take beyond the shutdown grace before it is terminated. */
const STOP_SLACK_MS = 2000;

export interface Threads {
  /** Stops every worker (each lets its connections finish within the grace), then ends them. */
  stop(): Promise<void>;
  /** Tells every worker but `from` (the one whose refresh_certs it was) to reload. */
  refreshCerts(from: number): void;
}

export interface ThreadEvents {
  /** A worker was asked to shut down (the `shutdown` command). */
  onShutdown(): void;
  /** Worker `from` ran refresh_certs. */
  onRefreshCerts(from: number): void;
}

/**
 * Starts workers 1..count-1 running `entry`, so that they load their modules before any client
 * can take the process's descriptors; `open` then hands them the doors' ports and resolves once
 * each has opened its own. What workers report goes to `events`.
 */
export function spawnThreads(entry: URL, count: number, events: ThreadEvents): {
  open(role: Omit<ThreadRole, "index">): Promise<Threads>;
} {
  const workers: Worker[] = [];
  const started: Promise<void>[] = [];
  const stopped: Promise<void>[] = [];
  let stopping = false;
  for (let index = 1; index < count; index++) {
    const worker = new Worker(entry, { type: "module", name: `worker ${index}` });
    workers.push(worker);
    let ready!: () => void;
    let failed!: (err: Error) => void;
    let done!: () => void;
    started.push(new Promise<void>((resolve, reject) => [ready, failed] = [resolve, reject]));
    stopped.push(new Promise<void>((resolve) => done = resolve));
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "ready") ready();
      else if (m.type === "failed") failed(new Error(m.message));
      else if (m.type === "shutdown") events.onShutdown();
      else if (m.type === "refresh_certs") events.onRefreshCerts(index);
      else done();
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      if (stopping) return done();
      log.error("worker thread {index} failed: {err}; stopping", { index, err: e.message });
      Deno.exit(WORKER_DIED);
    };
  }
  const threads: Threads = {
    async stop() {
      stopping = true;
      for (const w of workers) w.postMessage({ type: "stop" } satisfies ToWorker);
      const grace = shutdownGraceMs + STOP_SLACK_MS;
      await Promise.race([Promise.all(stopped), new Promise((r) => setTimeout(r, grace))]);
      for (const w of workers) w.terminate();
    },
    refreshCerts(from) {
      workers.forEach((w, i) => {
        if (i + 1 !== from) w.postMessage({ type: "refresh_certs" } satisfies ToWorker);
      });
    },
  };
  let shutdownGraceMs = 0;
  const abandon = () => {
    stopping = true;
    for (const w of workers) w.terminate();
  };
  return {
    async open(role) {
      shutdownGraceMs = role.config.shutdownGraceMs;
      workers.forEach((w, i) =>
        w.postMessage({ type: "start", role: { ...role, index: i + 1 } } satisfies ToWorker)
      );
      try {
        await Promise.all(started);
      } catch (err) {
        abandon();
        throw err;
      }
      return threads;
    },
  };
}
