/**
 * Persistence as a whole: restores the store at start, keeps the log (rotating it into a new
 * snapshot when it grows past its bound), and saves everything on a clean stop.
 *
 * Files: with `-e PATH`, one snapshot at PATH, written on a clean stop and removed once loaded (as
 * memcached's -e, it is good for one restart). With `--persist-log DIR`, DIR/snapshot.N and
 * DIR/log.N: log N holds every change made after snapshot N began. A rewrite to N+1 first switches
 * the log to log.N+1, then writes snapshot.N+1 and removes generation N; a crash in between leaves
 * snapshot N, log N and log N+1, which replay to the same state.
 */
import type { StoreShare } from "../store/cache_core.ts";
import type { Clock } from "../clock.ts";
import type { Config, PersistConfig } from "../config.ts";
import { log as logger } from "../log.ts";
import type { Store } from "../store/store.ts";
import { openPlainStore, persisting, storeOptions } from "../store/open.ts";
import { AppendLog } from "./log.ts";
import { PersistentStore } from "./persistent_store.ts";
import { LOG_MAGIC, SNAPSHOT_MAGIC } from "./record.ts";
import { loadFile } from "./load.ts";
import { PersistStartError } from "./start_error.ts";
import { Restorer } from "./restore.ts";
import {
  type SnapshotResult,
  syncDir,
  writeSnapshotSliced,
  writeSnapshotSync,
} from "./snapshot.ts";
import { PERSIST_STATS_BYTES, PersistStats } from "./stats.ts";

/**
 * The store for this configuration: the plain one when persistence is off, otherwise one restored
 * from disk (throws PersistStartError when a file is damaged and --persist-repair was not given).
 */
export function openStore(
  clock: Clock,
  config: Config,
  share?: StoreShare,
): { store: Store; persistence: Persistence | null } {
  if (!persisting(config)) return openPlainStore(clock, config, share);
  const store = new PersistentStore(clock, storeOptions(config), share);
  // Another thread (-t N) maps the store thread 0 restored, logs to thread 0's log, and leaves
  // the files and the final save to thread 0.
  const persistence = share === undefined
    ? Persistence.start(store, config.persist)
    : Persistence.join(store, config.persist);
  return { store, persistence };
}

/**
 * What a door needs for fsync "always": note `changes()` before a batch; if it moved, the batch
 * changed something, and its replies wait for `wait()` (null when everything is on disk already).
 * A batch of reads alone does not wait for other connections' writes.
 */
export interface Durability {
  changes(): number;
  wait(): Promise<void> | null;
}

/** Seconds between two error lines in the log while the disk keeps failing. */
const ERROR_LOG_INTERVAL = 10;

export class Persistence {
  readonly stats: PersistStats;
  /** Set with fsync "always": replies that acknowledge changes wait for them to be on disk. */
  readonly durability: Durability | null = null;
  private log: AppendLog | null = null;
  private gen = 0;
  private rewriting: Promise<void> | null = null;
  private lastErrorLogged = 0;
  private lastFailure = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    private readonly store: PersistentStore,
    readonly options: PersistConfig,
    /** True on the thread that restored the store: it owns the files, the timer and the save. */
    private readonly owner: boolean,
  ) {
    this.stats = new PersistStats(store.memory.scalars("persist_stats", PERSIST_STATS_BYTES / 8));
  }

  /** Restores the store and starts logging; throws PersistStartError when a file is damaged. */
  static start(store: PersistentStore, options: PersistConfig): Persistence {
    const p = new Persistence(store, options, true);
    const started = performance.now();
    const restorer = new Restorer(store);
    if (options.logDir !== null && options.snapshotPath !== null) {
      logger.warn("-e is not used with --persist-log: the log directory keeps everything");
    }
    try {
      if (options.logDir !== null) p.openLog(restorer);
      else if (options.snapshotPath !== null) p.loadSnapshotFile(restorer);
    } catch (err) {
      if (err instanceof PersistStartError) throw err;
      const path = options.logDir ?? options.snapshotPath;
      throw new PersistStartError(`cannot use ${path}: ${(err as Error).message}`);
    }
    restorer.finish();
    p.stats.itemsRestored = store.currItems;
    p.stats.restoreMs = performance.now() - started;
    if (p.log !== null) {
      p.attachLog(p.log);
      p.timer = setInterval(() => p.tick(), 1000);
    }
    return p;
  }

  /** Another thread's part (-t N): it logs its changes and reports the shared figures. */
  static join(store: PersistentStore, options: PersistConfig): Persistence {
    const p = new Persistence(store, options, false);
    if (options.logDir !== null) {
      p.log = AppendLog.attach(store, options.logDir, options.fsync, p.stats, (e) => p.failed(e));
      p.attachLog(p.log);
    }
    return p;
  }

  private attachLog(log: AppendLog): void {
    this.store.appendLog = log;
    if (this.options.fsync === "always") {
      (this as { durability: Durability }).durability = {
        changes: () => log.changes,
        wait: () => log.durable(),
      };
    }
  }

  /** "degraded" while a write has failed and no rewrite has recovered from it since. */
  get health(): "ok" | "degraded" {
    return this.stats.degraded === 0 ? "ok" : "degraded";
  }

  /** `stats persistence` (and the source of the /metrics persistence samples). */
  rows(): [string, number | string][] {
    const s = this.stats;
    const o = this.options;
    return [
      ["persist_mode", o.logDir !== null ? "log" : "snapshot"],
      ["persist_fsync", o.logDir !== null ? o.fsync : "none"],
      ["persist_status", this.health],
      ["persist_errors", s.errors],
      ["persist_bytes_written", s.bytesWritten],
      ["persist_log_bytes", this.log?.fileBytes ?? 0],
      ["persist_fsyncs", s.fsyncs],
      ["persist_fsync_avg_us", s.fsyncs === 0 ? 0 : Math.round((s.fsyncMsTotal / s.fsyncs) * 1000)],
      ["persist_fsync_max_us", Math.round(s.fsyncMsMax * 1000)],
      ["persist_rewrites", s.rewrites],
      ["persist_last_snapshot_time", s.lastSnapshotTime],
      ["persist_last_snapshot_ms", Math.round(s.lastSnapshotMs)],
      ["persist_last_snapshot_items", s.lastSnapshotItems],
      ["persist_last_snapshot_pause_ms", Math.round(s.lastSnapshotPauseMs)],
      ["persist_items_restored", s.itemsRestored],
      ["persist_restore_ms", Math.round(s.restoreMs)],
    ];
  }

  /** A clean stop: the log is synced and folded into a snapshot; with -e, the snapshot is written. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.rewriting !== null) await this.rewriting;
    if (!this.owner) {
      await this.log?.detach();
      this.store.appendLog = null;
      return;
    }
    try {
      if (this.log !== null) {
        await this.log.close();
        this.store.appendLog = null;
        const next = this.gen + 1;
        const dir = this.options.logDir!;
        const result = writeSnapshotSync(this.store, `${dir}/snapshot.${next}`, this.deadline());
        Deno.writeFileSync(`${dir}/log.${next}`, new TextEncoder().encode(LOG_MAGIC));
        syncDir(`${dir}/log.${next}`);
        this.noteSnapshot(result);
        removeOlder(dir, next);
      } else if (this.options.snapshotPath !== null) {
        const result = writeSnapshotSync(this.store, this.options.snapshotPath, this.deadline());
        this.noteSnapshot(result);
      }
    } catch (err) {
      this.failed(err);
    }
  }

  /** Rewrites the log now (the timer does it when the log passes its bound). */
  rewrite(): Promise<void> {
    this.rewriting ??= this.runRewrite().finally(() => (this.rewriting = null));
    return this.rewriting;
  }

  private async runRewrite(): Promise<void> {
    const log = this.log!;
    const dir = this.options.logDir!;
    const next = this.gen + 1;
    try {
      await log.rotate(next);
      // From here on log.N+1 holds new changes, even if this snapshot fails: never reuse its name.
      this.gen = next;
      syncDir(`${dir}/log.${next}`);
      const path = `${dir}/snapshot.${next}`;
      const result = await writeSnapshotSliced(this.store, path, this.deadline());
      this.noteSnapshot(result);
      this.store.locked(() => {
        this.stats.rewrites++;
        if (!log.broken) this.stats.degraded = 0;
      });
      removeOlder(dir, next);
    } catch (err) {
      this.failed(err);
    }
  }

  private tick(): void {
    const log = this.log!;
    // With "always" this catches changes no reply waited for (noreply commands).
    log.flush(log.mode !== "no");
    if (this.rewriting !== null) return;
    const now = this.store.clock.now;
    // After a failure the files lack some changes until a rewrite succeeds: retry it now and then.
    const retry = this.health === "degraded" && now - this.lastFailure >= ERROR_LOG_INTERVAL;
    if (log.fileBytes > this.options.rewriteBytes || retry) this.rewrite();
  }

  private deadline(): number {
    // In the shared store: a flush_all with a delay that another thread ran counts too.
    return this.store.flushDeadline;
  }

  private noteSnapshot(result: SnapshotResult): void {
    const s = this.stats;
    this.store.locked(() => {
      s.lastSnapshotTime = this.store.clock.now;
      s.lastSnapshotMs = result.ms;
      s.lastSnapshotItems = result.items;
      s.lastSnapshotPauseMs = result.pauseMs;
      s.bytesWritten += result.bytes;
    });
  }

  /** Counts a failed write and logs it at most once per interval; serving goes on regardless. */
  private failed(err: unknown): void {
    const s = this.stats;
    this.store.locked(() => {
      s.errors++;
      s.degraded = 1;
    });
    s.lastError = err instanceof Error ? err.message : String(err);
    const now = this.store.clock.now;
    this.lastFailure = now;
    if (now - this.lastErrorLogged >= ERROR_LOG_INTERVAL) {
      this.lastErrorLogged = now;
      logger.error("persistence: {error} (errors so far: {count}); still serving from memory", {
        error: s.lastError,
        count: s.errors,
      });
    }
  }

  private loadSnapshotFile(restorer: Restorer): void {
    const path = this.options.snapshotPath!;
    if (loadFile(path, SNAPSHOT_MAGIC, restorer, this.options.repair) === null) return;
    // As memcached's -e: the file is good for one restart; a crash after it must not revive it.
    Deno.removeSync(path);
    logger.info("restored {items} items from {path}", { items: this.store.currItems, path });
  }

  private openLog(restorer: Restorer): void {
    const dir = this.options.logDir!;
    Deno.mkdirSync(dir, { recursive: true });
    const snapshots: number[] = [];
    const logs: number[] = [];
    for (const entry of Deno.readDirSync(dir)) {
      const m = /^(snapshot|log)\.(\d+)$/.exec(entry.name);
      if (m !== null) (m[1] === "log" ? logs : snapshots).push(Number(m[2]));
      else if (entry.name.endsWith(".tmp")) Deno.removeSync(`${dir}/${entry.name}`);
    }
    const base = snapshots.length === 0 ? -1 : Math.max(...snapshots);
    if (base !== -1) {
      loadFile(`${dir}/snapshot.${base}`, SNAPSHOT_MAGIC, restorer, this.options.repair);
    }
    const replay = logs.filter((g) => g >= base).sort((a, b) => a - b);
    let goodEnd = 0;
    for (const g of replay) {
      goodEnd = loadFile(`${dir}/log.${g}`, LOG_MAGIC, restorer, this.options.repair) ?? 0;
    }
    this.gen = Math.max(base, replay.length > 0 ? replay[replay.length - 1] : 0, 0);
    removeOlder(dir, Math.max(base, 0));
    this.log = AppendLog.open(
      this.store,
      dir,
      this.gen,
      goodEnd,
      this.options.fsync,
      this.stats,
      (err) => this.failed(err),
    );
    // Several logs (a rewrite cut short) or a repaired file: start a whole new generation.
    if (replay.length > 1 || restorer.repaired) this.rewrite();
  }
}

/** Removes the snapshots and logs of generations before `gen`. */
function removeOlder(dir: string, gen: number): void {
  for (const entry of Deno.readDirSync(dir)) {
    const m = /^(snapshot|log)\.(\d+)$/.exec(entry.name);
    if (m !== null && Number(m[2]) < gen) Deno.removeSync(`${dir}/${entry.name}`);
  }
}
