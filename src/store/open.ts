/**
 * Opening the store without persistence: what every thread does when neither -e nor --persist-log
 * is given, and what threads 1..N-1 of -t N do always (they map the store thread 0 restores). Kept
 * apart from src/persist/ so that a server without persistence does not load it.
 */
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { StoreShare } from "./cache_core.ts";
import { Store } from "./store.ts";

/** The store's own options, from the command line. */
export function storeOptions(config: Config) {
  return {
    maxBytes: config.maxBytes,
    itemSizeMax: config.itemSizeMax,
    evict: config.evictions,
    casEnabled: config.casEnabled,
  };
}

/** Whether -e or --persist-log asks for persistence. */
export function persisting(config: Config): boolean {
  return config.persist.snapshotPath !== null || config.persist.logDir !== null;
}

/** A store kept in memory only; with `share`, another thread's view of thread 0's. */
export function openPlainStore(
  clock: Clock,
  config: Config,
  share?: StoreShare,
): { store: Store; persistence: null } {
  return { store: new Store(clock, storeOptions(config), share), persistence: null };
}
