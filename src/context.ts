import type { Config } from "./config.ts";
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
}

/** The state every door shares: the store, the settings and the live connections. */
export interface ServerContext {
  store: Store;
  config: Config;
  connections: Set<ConnectionInfo>;
  /** Set when -e or --persist-log is given. */
  persistence?: Persistence;
  /** `shutdown` (with -A) and signals call this. */
  requestShutdown(): void;
}
