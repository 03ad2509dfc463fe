/**
 * What persistence has done, for `stats persistence`, `/metrics` and `/health`. The figures live in
 * shared memory, so every thread (-t N) reports the process's; they change under the store lock.
 */
const FIELDS = [
  /** Log and snapshot bytes written since start. */
  "bytesWritten",
  "fsyncs",
  "fsyncMsTotal",
  "fsyncMsMax",
  /** Unix seconds of the last snapshot written (0 = none yet). */
  "lastSnapshotTime",
  "lastSnapshotMs",
  "lastSnapshotItems",
  /** The longest time the last snapshot kept clients waiting. */
  "lastSnapshotPauseMs",
  "rewrites",
  "itemsRestored",
  "restoreMs",
  "errors",
  /** 1 while a write has failed and no rewrite has recovered from it since. */
  "degraded",
] as const;

export const PERSIST_STATS_BYTES = FIELDS.length * 8;

type Figures = { -readonly [K in (typeof FIELDS)[number]]: number };

export interface PersistStats extends Figures {}

export class PersistStats {
  /** The last error's message on this thread (the log line says it; `degraded` is shared). */
  lastError = "";

  constructor(cells: Float64Array<ArrayBufferLike> = new Float64Array(FIELDS.length)) {
    FIELDS.forEach((name, i) =>
      Object.defineProperty(this, name, {
        get: () => cells[i],
        set: (v: number) => (cells[i] = v),
      })
    );
  }

  noteFsync(ms: number): void {
    this.fsyncs++;
    this.fsyncMsTotal += ms;
    if (ms > this.fsyncMsMax) this.fsyncMsMax = ms;
  }
}
