/**
 * The store as the introspection views see it: its read and write methods, wrapped on the one
 * store instance so that every door (text, meta, binary, HTTP) reports the same events without
 * knowing about them. They come and go with the watchers and `stats detail` that need them; while
 * none does, the store's methods are its own, and the hot-key sampler is the store's countdown.
 */
import type { Store } from "../store/store.ts";
import { FETCHED, type StoreMode, type StoreOutcome } from "../store/types.ts";
import type { HotKeys } from "./hotkeys.ts";
import { ntotalOf, slabClassOf, uriEncode } from "./items.ts";
import type { PrefixStats } from "./prefix.ts";
import { EVICTIONS, FETCHERS, MUTATIONS, type WatchHub } from "./watch.ts";

/** The connection whose request is being handled (memcached's `cfd`); 0 for HTTP. */
let activeConnection = 0;
/** At -t N: catches up with the other threads before a batch's first store call. */
let beforeBatch: (() => void) | null = null;

/** Every door calls this as a batch of requests begins, before it reaches the store. */
export function setActiveConnection(id: number): void {
  activeConnection = id;
  if (beforeBatch !== null) beforeBatch();
}

/**
 * At -t N, `sync` catches this thread up with a `stats detail on` or a watcher of another thread
 * before each batch, so the batch's first command is already counted or logged.
 */
export function followOtherThreads(sync: () => void): void {
  beforeBatch = sync;
}

const STATUS: Record<StoreOutcome, string> = {
  not_stored: "not_stored",
  stored: "stored",
  exists: "exists",
  not_found: "not_found",
  too_large: "too_large",
  no_memory: "no_memory",
};

type Fn = (...args: never[]) => unknown;
const WRAPPED = ["get", "touch", "lookup", "store", "delete", "arith"] as const;

export class StoreTap {
  /** The store's methods, bound, for the wrappers to call. */
  private readonly original: Record<string, Fn> = {};
  /** The same methods as the store has them, put back when the wrappers go. */
  private readonly own: Record<string, Fn> = {};
  private wrapped = false;

  constructor(
    private readonly store: Store,
    private readonly watch: WatchHub,
    private readonly prefixes: PrefixStats,
    private readonly hot: HotKeys,
  ) {
    const methods = store as unknown as Record<string, Fn>;
    for (const name of WRAPPED) {
      this.own[name] = methods[name];
      this.original[name] = methods[name].bind(store);
    }
    store.sampler = hot;
    this.refresh();
  }

  /** Installs the wrappers the current watchers and settings need. */
  refresh(): void {
    const full = (this.watch.flags & (FETCHERS | MUTATIONS)) !== 0 || this.prefixes.enabled;
    if (full) this.installFull();
    else this.uninstall();
    this.store.onEvict = (this.watch.flags & EVICTIONS) !== 0 ? (h) => this.evicted(h) : null;
  }

  /** memcached's eviction line: ttl and la in seconds from now, size without the CRLF. */
  private evicted(h: number): void {
    const store = this.store;
    const key = store.keyOf(h);
    const now = store.clock.now;
    const exptime = store.exptimeOf(h);
    const fetched = (store.bitsOf(h) & FETCHED) !== 0;
    this.watch.emit(
      EVICTIONS,
      `type=eviction key=${uriEncode(key)} fetch=${fetched ? "yes" : "no"} ` +
        `ttl=${exptime === 0 ? -1 : exptime - now} la=${now - store.lastAccessOf(h)} ` +
        `clsid=${slabClassOf(ntotalOf(store, key, h))} size=${store.valueOf(h).length}`,
    );
  }

  private set(name: string, fn: Fn): void {
    (this.store as unknown as Record<string, Fn>)[name] = fn;
  }

  /**
   * Puts the store's methods back. They are assigned, not deleted: deleting properties of an
   * object can turn it into a slow dictionary.
   */
  private uninstall(): void {
    if (!this.wrapped) return;
    for (const name of WRAPPED) this.set(name, this.own[name]);
    this.wrapped = false;
  }

  private installFull(): void {
    this.wrapped = true;
    const o = this.original as Record<string, (...args: unknown[]) => unknown>;
    for (const name of ["get", "touch", "lookup"]) {
      // memcached's stats detail counts get/gets/gat/gats but not the meta commands' lookups.
      const counted = name !== "lookup";
      this.set(name, (key: Uint8Array, ...rest: unknown[]) => {
        const c = this.store.counters;
        const dead = c.get_expired + c.get_flushed;
        const flushed = c.get_flushed;
        const h = o[name](key, ...rest) as number;
        // get and lookup count for the sampler themselves (store.sampler).
        if (name === "touch" && --this.hot.countdown === 0) this.hot.sample(key);
        if (counted && this.prefixes.enabled) this.prefixes.recordGet(key, h !== -1);
        // The store counts a dead item it found: memcached logs those as expired or flushed.
        const miss = c.get_expired + c.get_flushed === dead
          ? "not_found"
          : c.get_flushed !== flushed
          ? "flushed"
          : "expired";
        this.itemGet(key, h, miss);
        return h;
      });
    }
    this.set("store", (mode: StoreMode, key: Uint8Array, value: Uint8Array, ...rest: unknown[]) => {
      if (this.prefixes.enabled) this.prefixes.recordSet(key);
      this.itemGet(key, this.store.peek(key));
      const outcome = o.store(mode, key, value, ...rest) as StoreOutcome;
      if ((this.watch.flags & MUTATIONS) !== 0) {
        // An append or prepend that stored logs the joined item, as memcached does.
        const joined = outcome === "stored" && (mode === "append" || mode === "prepend");
        this.itemStore(
          mode,
          key,
          joined ? this.store.valueOf(this.store.peek(key)) : value,
          rest,
          outcome,
        );
      }
      return outcome;
    });
    this.set("delete", (key: Uint8Array, ...rest: unknown[]) => {
      if (this.prefixes.enabled) this.prefixes.recordDelete(key);
      this.itemGet(key, this.store.peek(key));
      return o.delete(key, ...rest);
    });
    this.set("arith", (key: Uint8Array, ...rest: unknown[]) => {
      this.itemGet(key, this.store.peek(key));
      return o.arith(key, ...rest);
    });
  }

  /** memcached logs every key lookup (do_item_get), sets and deletes included. */
  private itemGet(key: Uint8Array, h: number, miss = "not_found"): void {
    if ((this.watch.flags & FETCHERS) === 0) return;
    const found = h !== -1;
    const size = found ? this.store.valueOf(h).length : 0;
    const clsid = found ? slabClassOf(ntotalOf(this.store, key, h)) : 0;
    this.watch.emit(
      FETCHERS,
      `type=item_get key=${uriEncode(key)} status=${found ? "found" : miss} ` +
        `clsid=${clsid} cfd=${activeConnection} size=${size}`,
    );
  }

  private itemStore(
    mode: StoreMode,
    key: Uint8Array,
    value: Uint8Array,
    rest: unknown[],
    outcome: StoreOutcome,
  ): void {
    const store = this.store;
    const flags = (rest[0] as number) ?? 0;
    const exptime = store.absoluteExptime((rest[1] as number) ?? 0);
    // memcached prints the item's exptime on its own clock, which starts with the process.
    const ttl = exptime === 0 ? 0 : Math.max(0, exptime - store.clock.started);
    const clsid = slabClassOf(store.itemSize(key.length, value.length, flags));
    this.watch.emit(
      MUTATIONS,
      `type=item_store key=${uriEncode(key)} status=${STATUS[outcome]} cmd=${mode} ttl=${ttl} ` +
        `clsid=${clsid} cfd=${activeConnection} size=${value.length}`,
    );
  }
}
