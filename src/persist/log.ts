/**
 * The append-only mutation log, one for every thread (-t N). Records are appended under the store
 * lock to one buffer in shared memory, so the file holds them in the order the changes were made,
 * whichever thread made them. Whoever holds the lock writes the buffer out, through its own
 * descriptor of the current file: when the buffer is full, on the second's timer, and with fsync
 * "always" before it lets the lock go. fsync runs outside the lock; a reply that acknowledges a
 * change waits until the shared "durable up to" passes the records written before it. A failed
 * write or fsync never reaches a client: it is counted, and the log is marked broken (nothing more
 * is written to it) until a rewrite starts a new file.
 */
import type { Store } from "../store/store.ts";
import { LOG_MAGIC, magicBytes, RECORD_OVERHEAD, RecordBuffer } from "./record.ts";
import type { PersistStats } from "./stats.ts";
import type { PersistConfig } from "../config.ts";

export type FsyncMode = PersistConfig["fsync"];

/** Records gathered before they are written out even without a timer or a reply waiting. */
const BUFFER_BYTES = 1 << 20;

// Numbers in shared memory, changed only under the store lock.
const GEN = 0;
const LENGTH = 1;
const SEQ = 2;
const FILE_BYTES = 3;
const BROKEN = 4;
const STATE_CELLS = 5;
// Sequence numbers read outside the lock (BigInt64, Atomics).
const WRITTEN = 0;
const DURABLE = 1;

/** The shared buffer: appending past its end writes it out first (under the lock, in order). */
class SharedRecords extends RecordBuffer {
  constructor(
    bytes: Uint8Array,
    private readonly state: Float64Array,
    private readonly spill: () => void,
  ) {
    super(bytes);
  }
  override get length(): number {
    return this.state[LENGTH];
  }
  override set length(n: number) {
    this.state[LENGTH] = n;
  }
  protected override makeRoom(size: number): void {
    this.spill();
    if (size > this.bytes.length) throw new RangeError(`a log record of ${size} bytes`);
  }
}

export class AppendLog {
  readonly records: RecordBuffer;
  private file: Deno.FsFile;
  private fileGen: number;
  private syncing: Promise<void> | null = null;
  private readonly state: Float64Array;
  private readonly seqs: BigInt64Array;

  private constructor(
    private readonly store: Store,
    private readonly dir: string,
    readonly mode: FsyncMode,
    private readonly stats: PersistStats,
    private readonly onError: (err: unknown) => void,
  ) {
    const memory = store.memory;
    this.state = memory.scalars("persist_log", STATE_CELLS);
    this.seqs = new BigInt64Array(memory.take("persist_log_seqs", 16));
    const capacity = BUFFER_BYTES + RECORD_OVERHEAD + store.options.itemSizeMax;
    const bytes = new Uint8Array(memory.take("persist_log_records", capacity));
    this.records = new SharedRecords(bytes, this.state, () => this.writeOut());
    this.fileGen = this.state[GEN];
    this.file = appendTo(this.path(this.fileGen));
    // With "always" every batch's records are in the file before its replies wait for fsync.
    if (mode === "always") store.lock.beforeRelease = () => this.writeOut();
  }

  /**
   * The thread that restored the store opens generation `gen` for appending after `size` good
   * bytes (a torn tail beyond them is cut), before any other thread attaches.
   */
  static open(
    store: Store,
    dir: string,
    gen: number,
    size: number,
    mode: FsyncMode,
    stats: PersistStats,
    onError: (err: unknown) => void,
  ): AppendLog {
    createLogFile(`${dir}/log.${gen}`, size);
    const state = store.memory.scalars("persist_log", STATE_CELLS);
    state[GEN] = gen;
    state[FILE_BYTES] = Math.max(0, size - LOG_MAGIC.length);
    return new AppendLog(store, dir, mode, stats, onError);
  }

  /** Another thread's part: it appends to the log the first thread opened. */
  static attach(
    store: Store,
    dir: string,
    mode: FsyncMode,
    stats: PersistStats,
    onError: (err: unknown) => void,
  ): AppendLog {
    return new AppendLog(store, dir, mode, stats, onError);
  }

  /** Called after every record the store adds. */
  added(): void {
    this.state[SEQ]++;
  }

  /** Records added so far (by every thread). */
  get changes(): number {
    return this.state[SEQ];
  }

  /** Bytes in the current file (after its magic). */
  get fileBytes(): number {
    return this.state[FILE_BYTES];
  }

  /** A write failed since the current file was opened: it may lack records. */
  get broken(): boolean {
    return this.state[BROKEN] !== 0;
  }

  /** A promise to await before replying, or null when every record so far is on disk. */
  durable(): Promise<void> | null {
    // Called within the turn that made the changes (HTTP), the lock may still be held.
    if (this.store.lock.held) this.writeOut();
    const target = Atomics.load(this.seqs, WRITTEN);
    if (Atomics.load(this.seqs, DURABLE) >= target) return null;
    return this.waitFor(target);
  }

  /** Writes the buffer out (taking the lock) and, with `sync`, fsyncs it: the timer's work. */
  async flush(sync: boolean): Promise<void> {
    this.store.locked(() => this.writeOut());
    if (sync) await this.waitFor(Atomics.load(this.seqs, WRITTEN));
  }

  /**
   * Moves to generation `gen` (the file is created empty): records added from now on go there.
   * Resolves once everything written to the old file is on disk.
   */
  async rotate(gen: number): Promise<void> {
    createLogFile(this.path(gen), 0);
    let upTo = 0n;
    this.store.locked(() => {
      this.writeOut();
      this.state[GEN] = gen;
      this.state[FILE_BYTES] = 0;
      this.state[BROKEN] = 0;
      upTo = Atomics.load(this.seqs, WRITTEN);
    });
    const old = this.follow();
    await this.sync(old, upTo);
    this.retire(old);
  }

  /** Writes and fsyncs everything, then closes this thread's descriptor (the last stop). */
  async close(): Promise<void> {
    await this.flush(true);
    await this.detach();
  }

  /** This thread stops appending (what it added stays in the buffer for the last thread). */
  async detach(): Promise<void> {
    this.store.lock.beforeRelease = null;
    await this.syncing;
    this.file.close();
  }

  private path(gen: number): string {
    return `${this.dir}/log.${gen}`;
  }

  /** Under the store lock: the buffer goes to the current file in one write. */
  private writeOut(): void {
    const state = this.state;
    const length = state[LENGTH];
    if (length === 0) return;
    state[LENGTH] = 0;
    const data = this.records.bytes.subarray(0, length);
    try {
      if (state[BROKEN] === 0) {
        if (this.fileGen !== state[GEN]) this.retire(this.follow());
        for (let off = 0; off < length;) off += this.file.writeSync(data.subarray(off));
        state[FILE_BYTES] += length;
        this.stats.bytesWritten += length;
      }
    } catch (err) {
      state[BROKEN] = 1;
      this.onError(err);
    } finally {
      Atomics.store(this.seqs, WRITTEN, BigInt(state[SEQ]));
    }
  }

  /** Opens the current generation's file (the log was rotated); returns the one it replaces. */
  private follow(): Deno.FsFile {
    const old = this.file;
    this.fileGen = this.state[GEN];
    this.file = appendTo(this.path(this.fileGen));
    return old;
  }

  /** Closes a replaced file once an fsync of it that may still run on this thread is done. */
  private retire(old: Deno.FsFile): void {
    void Promise.resolve(this.syncing).finally(() => old.close());
  }

  private async waitFor(target: bigint): Promise<void> {
    while (Atomics.load(this.seqs, DURABLE) < target) {
      this.syncing ??= this.sync(this.file, Atomics.load(this.seqs, WRITTEN))
        .finally(() => (this.syncing = null));
      await this.syncing;
    }
  }

  /** fsyncs `file`, which holds every record up to `upTo`, and publishes that. */
  private async sync(file: Deno.FsFile, upTo: bigint): Promise<void> {
    try {
      if (this.state[BROKEN] === 0) {
        const started = performance.now();
        await file.syncData();
        const ms = performance.now() - started;
        this.store.locked(() => this.stats.noteFsync(ms));
      }
    } catch (err) {
      this.store.locked(() => {
        this.state[BROKEN] = 1;
        this.onError(err);
      });
    } finally {
      // Waiters are released even after a failure: a client is never held by a sick disk.
      let seen = Atomics.load(this.seqs, DURABLE);
      while (seen < upTo) {
        const was = Atomics.compareExchange(this.seqs, DURABLE, seen, upTo);
        if (was === seen) break;
        seen = was;
      }
    }
  }
}

/** Creates (or cuts to `size` good bytes) a log file; a new one starts with its magic, synced. */
function createLogFile(path: string, size: number): void {
  const file = Deno.openSync(path, { read: true, write: true, create: true });
  try {
    if (size === 0) {
      file.truncateSync(0);
      file.writeSync(magicBytes(LOG_MAGIC));
      file.syncDataSync();
    } else {
      file.truncateSync(size);
    }
  } finally {
    file.close();
  }
}

function appendTo(path: string): Deno.FsFile {
  return Deno.openSync(path, { append: true });
}
