import type { Config } from "./config.ts";
import type { Limits } from "./limits.ts";
import type { Persistence } from "./persist/persistence.ts";
import type { Store } from "./store/store.ts";

export const VERSION = "1.6.18";

/** What a connection knows about itself, for `stats conns` and the idle timeout. */
export interface ConnectionInfo {
  id: number;
  /** "tcp:127.0.0.1:40000" or "unix:/path". */
  addr: string;
  listenAddr: string;
  state: string;
  lastCommand: number;
  close(): void;
  /** Writes to the client outside the request loop (watch lines, a streamed dump). */
  write?(data: Uint8Array): Promise<void>;
  /** Why it closed, for `watch connevents`: memcached's normal, error, idle_timeout, shutdown. */
  closeReason?: "normal" | "error" | "idle_timeout" | "shutdown";
  /** Bytes held by its read and output buffers, for `read_buf_bytes` and `response_obj_bytes`. */
  bufferBytes?(): { read: number; output: number };
}

/** A connection of another thread, as `stats conns` shows it. */
export interface ConnectionRow {
  id: number;
  addr: string;
  listenAddr: string;
  state: string;
  lastCommand: number;
  /** Its read and output buffers' bytes; null for a listener or the UDP socket. */
  buffers: { read: number; output: number } | null;
}

/** At -t N, every thread's connections in shared memory (src/introspect/conns.ts). */
export interface ConnectionList {
  /** Lists a connection that opened: what it returns stands for the connection from then on. */
  list(info: ConnectionInfo): ConnectionInfo;
  unlist(info: ConnectionInfo): void;
  /** The other threads' connections, as listed now. */
  others(): ConnectionRow[];
  /** Connections that found the list full (missing from other threads' answers). */
  readonly unlisted: number;
}

/** This process's TLS (src/server/tls.ts), for `refresh_certs` and the stats. */
export interface TlsRuntime {
  /**
   * refresh_certs: reloads the certificate files for this thread's new connections, then calls
   * onRefreshed (the other threads reload too); memcached's error line, or null.
   */
  refresh(): string | null;
  /** What another thread's refresh_certs asks of this one: the reload alone. */
  reload(): string | null;
  onRefreshed?: () => void;
  /** Clock seconds of the last load that succeeded (`time_since_server_cert_refresh`). */
  lastRefresh: number;
}

/** The state every door shares: the store, the settings and the live connections. */
export interface ServerContext {
  store: Store;
  config: Config;
  connections: Set<ConnectionInfo>;
  /** At -t N: every thread's connections, for `stats conns` and the buffer figures. */
  connectionTable?: ConnectionList;
  /** Bounds shared by every connection and door (values still arriving, HTTP requests). */
  limits: Limits;
  /** Set when either door speaks TLS (-Z, --http-tls-cert). */
  tls?: TlsRuntime;
  /** Set when -e or --persist-log is given. */
  persistence?: Persistence;
  /** `shutdown` (with -A) and signals call this. */
  requestShutdown(): void;
  /** Aborts when the server starts to stop, so that endless responses (event streams) end. */
  stopping?: AbortSignal;
}
