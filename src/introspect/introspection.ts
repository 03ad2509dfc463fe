/**
 * The introspection state of one server: its watchers, `stats detail` counters, the hot-key
 * sampler, the `stats sizes` switch, and the store tap that feeds them. Kept beside the
 * ServerContext (looked up by it) rather than in it, so that only the doors that offer these
 * views know about them.
 */
import type { ServerContext } from "../context.ts";
import type { Store } from "../store/store.ts";
import { nextTurn } from "./turn.ts";
import { SLICE } from "./dump.ts";
import { HOT_KEYS, HotKeys, SAMPLE_EVERY } from "./hotkeys.ts";
import { ntotalOf } from "./items.ts";
import { PrefixStats } from "./prefix.ts";
import { RuntimeSettings } from "./settings.ts";
import { followOtherThreads, StoreTap } from "./tap.ts";
import { WATCH_CELLS, WatchHub } from "./watch.ts";

export class Introspection {
  readonly watch: WatchHub;
  readonly prefixes: PrefixStats;
  readonly hot: HotKeys;
  readonly tap: StoreTap;
  /** What `verbosity`, `lru_crawler enable|disable`, `stats detail` and `stats sizes_*` set. */
  readonly settings: RuntimeSettings;
  /** Makes this thread log at a verbosity (main.ts sets the log's; none in in-process tests). */
  followVerbosity: (level: number) => void = () => {};

  constructor(ctx: ServerContext) {
    const store = ctx.store;
    const memory = store.memory;
    const threads = ctx.config.threads;
    this.watch = new WatchHub(
      store.counters,
      threads > 1
        ? {
          cells: new Int32Array(memory.take("watch", WATCH_CELLS * 4)),
          thread: store.thread,
          threads,
          channel: new BroadcastChannel("watch"),
        }
        : null,
    );
    this.settings = new RuntimeSettings(
      memory.take("settings", RuntimeSettings.BYTES),
      memory.creator,
      ctx.config,
    );
    this.prefixes = new PrefixStats(
      ctx.config.prefixDelimiter,
      memory.take("detail", PrefixStats.BYTES),
    );
    const hot = memory.take("hotkeys", HotKeys.bytes(HOT_KEYS));
    this.hot = new HotKeys(HOT_KEYS, SAMPLE_EVERY, hot, store.thread);
    this.tap = new StoreTap(ctx.store, this.watch, this.prefixes, this.hot);
    this.watch.onChange = () => this.tap.refresh();
    if (threads > 1) {
      // Another thread's watchers and `stats detail on` reach this one before its next batch.
      store.onAcquire = () => this.sync();
      followOtherThreads(() => this.sync());
      this.sync();
    } else store.onAcquire = () => this.watch.sync();
  }

  /** At -t N: follows what the other threads changed (their watchers, `stats detail`, `verbosity`). */
  sync(): void {
    this.watch.sync();
    this.followVerbosity(this.settings.verbosity);
    const detail = this.settings.detail;
    if (detail !== this.prefixes.enabled) {
      this.prefixes.enabled = detail;
      this.tap.refresh();
    }
  }

  /** `verbosity`: this thread logs so at once, the others before their next batch. */
  setVerbosity(level: number): void {
    this.settings.verbosity = level;
    this.followVerbosity(level);
  }

  setDetail(on: boolean): void {
    this.settings.detail = on;
    this.prefixes.enabled = on;
    this.tap.refresh();
  }

  /**
   * `lru_crawler crawl`: one pass of the store's expiry sweep, a slice per turn. False while a
   * pass is still running (memcached's BUSY).
   */
  crawl(store: Store): boolean {
    if (!this.settings.startCrawl()) return false;
    (async () => {
      for (let seen = 0; seen < store.currItems; seen += SLICE) {
        store.sweep(SLICE, true);
        await nextTurn();
      }
    })().finally(() => this.settings.endCrawl());
    return true;
  }

  /**
   * `stats sizes`: items stored since `sizes_enable`, counted in 32-byte buckets of their size,
   * as memcached's histogram; computed on demand from the items rather than on every store.
   */
  sizeRows(store: Store): [string, number | string][] {
    const from = this.settings.sizesFromCas;
    if (from === null) return [["sizes_status", "disabled"]];
    const buckets = new Map<number, number>();
    store.forEachKey((key, h) => {
      if (store.casOf(h) < from) return true;
      const bucket = Math.ceil(ntotalOf(store, key, h) / 32) * 32;
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
      return true;
    });
    return [...buckets].sort((a, b) => a[0] - b[0]).map(([size, n]) => [String(size), n]);
  }

  /** `stats reset`. */
  reset(): void {
    this.prefixes.reset();
    this.hot.reset();
  }
}

const states = new WeakMap<ServerContext, Introspection>();

/** The introspection state of `ctx`'s server, made on first use. */
export function introspection(ctx: ServerContext): Introspection {
  let state = states.get(ctx);
  if (state === undefined) {
    state = new Introspection(ctx);
    states.set(ctx, state);
  }
  return state;
}
