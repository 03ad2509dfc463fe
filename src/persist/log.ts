/**
 * The append-only mutation log. Records gather in memory and go to the file in one write per
 * flush; file operations run one after another on a queue, so a flush and a switch to a new file
 * never interleave. With fsync "always" a reply waits for `durable()`: every batch that arrives
 * while one fsync runs shares the next one. A failed write or fsync never reaches a client: it is
 * counted, the unwritten records are dropped and the log is marked broken until a rewrite starts
 * a whole new one.
 */
import { LOG_MAGIC, magicBytes, RecordBuffer } from "./record.ts";
import type { PersistStats } from "./stats.ts";

import type { PersistConfig } from "../config.ts";

export type FsyncMode = PersistConfig["fsync"];

/** Records held in memory before a flush is started without waiting for the timer. */
const EAGER_FLUSH = 1 << 20;
/** Records held while the disk does not keep up, before they are dropped as a failure. */
const MAX_PENDING = 64 << 20;

export class AppendLog {
  readonly records = new RecordBuffer();
  /** Bytes in the current file (after its magic). */
  fileBytes = 0;
  /** A write failed since the current file was opened: it may lack records. */
  broken = false;
  private seq = 0;
  private durableSeq = 0;
  private queue: Promise<void> = Promise.resolve();
  private queued: Promise<void> | null = null;

  private constructor(
    private file: Deno.FsFile,
    readonly mode: FsyncMode,
    private readonly stats: PersistStats,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Opens `path` for appending after `size` good bytes (a torn tail beyond them is cut). */
  static open(
    path: string,
    size: number,
    mode: FsyncMode,
    stats: PersistStats,
    onError: (err: unknown) => void,
  ): AppendLog {
    const file = openLogFile(path, size);
    const log = new AppendLog(file, mode, stats, onError);
    log.fileBytes = Math.max(0, size - LOG_MAGIC.length);
    return log;
  }

  /** Called after every record the store adds. */
  added(): void {
    this.seq++;
    if (this.records.length >= EAGER_FLUSH) {
      if (this.records.length > MAX_PENDING) this.dropPending(new Error("log writes fall behind"));
      // Also with "always": noreply changes pile up with no reply waiting to flush them.
      else this.flush(this.mode !== "no");
    }
  }

  /** Records added so far. */
  get changes(): number {
    return this.seq;
  }

  /** A promise to await before replying, or null when every record so far is on disk. */
  durable(): Promise<void> | null {
    if (this.durableSeq >= this.seq) return null;
    return this.waitFor(this.seq);
  }

  private async waitFor(seq: number): Promise<void> {
    while (this.durableSeq < seq) await this.flush(true);
  }

  /** Writes what has gathered (and fsyncs with `sync`); joins a flush already waiting its turn. */
  flush(sync: boolean): Promise<void> {
    if (this.queued !== null) return this.queued;
    const run = this.queue.then(() => {
      this.queued = null;
      return this.writeOut(sync);
    });
    this.queued = run;
    this.queue = run;
    return run;
  }

  /**
   * Flushes into the current file, then switches to `path` (created empty): records added from now
   * on go there. Resolves once the switch is done.
   */
  rotate(path: string): Promise<void> {
    // Records are taken when this runs, not now: a flush queued before it must not write later
    // records ahead of earlier ones.
    const run = this.queue.then(async () => {
      await this.writeOut(true);
      const next = openLogFile(path, 0);
      this.file.close();
      this.file = next;
      this.fileBytes = 0;
      this.broken = false;
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /** Flushes and fsyncs everything, then closes the file. */
  async close(): Promise<void> {
    await this.flush(true);
    await this.queue;
    this.file.close();
  }

  private writeOut(sync: boolean): Promise<void> {
    return this.writeBytes(this.records.take(), this.seq, sync);
  }

  private async writeBytes(data: Uint8Array, upTo: number, sync: boolean): Promise<void> {
    try {
      if (!this.broken) {
        for (let off = 0; off < data.length;) off += await this.file.write(data.subarray(off));
        this.fileBytes += data.length;
        this.stats.bytesWritten += data.length;
        if (sync) {
          const t = performance.now();
          await this.file.syncData();
          this.stats.noteFsync(performance.now() - t);
        }
      }
    } catch (err) {
      this.broken = true;
      this.onError(err);
    } finally {
      // Waiters are released even after a failure: a client is never held by a sick disk.
      if (upTo > this.durableSeq) this.durableSeq = upTo;
    }
  }

  private dropPending(err: Error): void {
    this.records.take();
    this.broken = true;
    this.durableSeq = this.seq;
    this.onError(err);
  }
}

/** Opens (creating it with its magic when new) a log file and positions it after `size` bytes. */
function openLogFile(path: string, size: number): Deno.FsFile {
  const file = Deno.openSync(path, { read: true, write: true, create: true });
  if (size === 0) {
    file.truncateSync(0);
    file.writeSync(magicBytes(LOG_MAGIC));
    file.syncDataSync();
  } else {
    file.truncateSync(size);
  }
  file.seekSync(0, Deno.SeekMode.End);
  return file;
}
