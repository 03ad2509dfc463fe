/**
 * `watch`: memcached's log stream. Every watcher names the event classes it wants; events are
 * rendered once, in memcached's log-line format, and queued per watcher up to a fixed number of
 * bytes. A watcher that does not keep up loses lines and is told how many (memcached's
 * `skipped=N`), or, for a stream that asked for it, is dropped.
 */
import type { Counters } from "../stats.ts";

/** memcached's LOG_* event classes, by the names `watch` accepts. */
export const WATCH_CLASSES: Readonly<Record<string, number>> = {
  sysevents: 1 << 1,
  fetchers: 1 << 2,
  mutations: 1 << 3,
  connevents: 1 << 5,
  evictions: 1 << 6,
  rawcmds: 1 << 9,
  proxyreqs: 1 << 10,
  proxyevents: 1 << 11,
  proxyuser: 1 << 12,
};
export const FETCHERS = WATCH_CLASSES.fetchers;
export const MUTATIONS = WATCH_CLASSES.mutations;
export const CONNEVENTS = WATCH_CLASSES.connevents;
export const EVICTIONS = WATCH_CLASSES.evictions;

/** memcached's cap on simultaneous watchers (WATCHER_LIMIT). */
export const MAX_WATCHERS = 20;

/** Where a watcher's lines go (ASCII text, "\n"-terminated lines); rejects when the reader is gone. */
export type WatchSink = (text: string) => Promise<void>;

export class Watcher {
  private queue: string[] = [];
  /** Bytes queued or being written: never more than the limit (plus one skipped line). */
  private pending = 0;
  private writing = false;
  private skipped = 0;
  closed = false;
  /** Resolves when the watcher is removed (its reader left, or it was dropped). */
  readonly done: Promise<void>;
  private finish!: () => void;

  constructor(
    private readonly hub: WatchHub,
    readonly flags: number,
    private readonly limit: number,
    private readonly sink: WatchSink,
    /** Drop the watcher instead of skipping lines when it falls behind (HTTP streams). */
    private readonly dropWhenFull = false,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  /** Marks it closed; only the hub calls this. */
  end(): void {
    this.closed = true;
    this.finish();
  }

  /** Queues one line (ending in "\n"), or counts it as skipped when the queue is full. */
  offer(line: string): void {
    if (this.closed) return;
    if (this.pending + line.length > this.limit) {
      if (this.dropWhenFull) {
        this.hub.remove(this);
        return;
      }
      this.skipped++;
      this.hub.counters.log_watcher_skipped++;
      return;
    }
    this.flushSkipped();
    this.enqueue(line);
  }

  private flushSkipped(): void {
    if (this.skipped === 0) return;
    const line = `skipped=${this.skipped}\n`;
    this.skipped = 0;
    this.queue.push(line);
    this.pending += line.length;
  }

  private enqueue(line: string): void {
    this.queue.push(line);
    this.pending += line.length;
    this.hub.counters.log_watcher_sent++;
    if (!this.writing) this.pump();
  }

  private async pump(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const text = this.queue.join("");
        this.queue = [];
        await this.sink(text);
        this.pending -= text.length;
        // Say what was lost as soon as there is room, not only when the next event comes.
        this.flushSkipped();
      }
    } catch {
      this.hub.remove(this);
    } finally {
      this.writing = false;
    }
  }
}

/**
 * How the watch hubs of -t N threads meet: each thread's classes in a shared cell (with a version
 * that moves on every change, and the event counter `gid`), and a channel that carries the events
 * one thread renders to the watchers of the others.
 */
export interface WatchShare {
  cells: Int32Array;
  thread: number;
  /** Threads in all: each event sent is received by every other one. */
  threads: number;
  channel: BroadcastChannel;
}
/** Cells: one per thread (64), then the version, gid, bytes in flight and watchers. */
export const WATCH_CELLS = 68;
const VERSION = 64;
const GID = 65;
/** Bytes of events sent to other threads and not yet taken off their channel. */
const IN_FLIGHT = 66;
/** Watchers of every thread: MAX_WATCHERS bounds them together. */
const WATCHERS = 67;
/**
 * Past this, a thread's events are not sent to the others (counted skipped): a thread that writes
 * faster than a busy other thread reads its channel must not queue without end.
 */
const MAX_IN_FLIGHT = 4 << 20;

/** The watchers of one server, and the events the doors and the store report to them. */
export class WatchHub {
  private watchers: Watcher[] = [];
  /** The union of every watcher's classes, of every thread: checked before rendering anything. */
  flags = 0;
  /** ... of the other threads' watchers only. */
  private remoteFlags = 0;
  private version = -1;
  private gid = 0;
  /** Called when the union of classes changes (the store tap follows it). */
  onChange: () => void = () => {};

  /** `counters`: this thread's row, where log_watcher_sent and log_watcher_skipped count. */
  constructor(
    readonly counters: Counters,
    private readonly share: WatchShare | null = null,
  ) {
    if (share !== null) {
      share.channel.onmessage = (e: MessageEvent<{ flag: number; line: string }>) => {
        Atomics.sub(share.cells, IN_FLIGHT, e.data.line.length);
        this.deliver(e.data.flag, e.data.line);
      };
    }
  }

  /** Watchers of every thread. */
  get count(): number {
    const share = this.share;
    return share === null ? this.watchers.length : Atomics.load(share.cells, WATCHERS);
  }

  add(flags: number, limit: number, sink: WatchSink, dropWhenFull = false): Watcher | null {
    const share = this.share;
    if (share === null) {
      if (this.watchers.length >= MAX_WATCHERS) return null;
    } else if (Atomics.add(share.cells, WATCHERS, 1) >= MAX_WATCHERS) {
      Atomics.sub(share.cells, WATCHERS, 1);
      return null;
    }
    const w = new Watcher(this, flags, limit, sink, dropWhenFull);
    this.watchers.push(w);
    this.recompute();
    return w;
  }

  remove(w: Watcher): void {
    if (w.closed) return;
    w.end();
    this.watchers = this.watchers.filter((x) => x !== w);
    if (this.share !== null) Atomics.sub(this.share.cells, WATCHERS, 1);
    this.recompute();
  }

  private recompute(): void {
    let flags = 0;
    for (const w of this.watchers) flags |= w.flags;
    const share = this.share;
    if (share === null) return this.update(flags, 0);
    Atomics.store(share.cells, share.thread, flags);
    Atomics.add(share.cells, VERSION, 1);
    this.sync();
  }

  /** Follows the other threads' watchers (the store calls it when a thread takes its lock). */
  sync(): void {
    const share = this.share;
    if (share === null) return;
    const version = Atomics.load(share.cells, VERSION);
    if (version === this.version) return;
    this.version = version;
    let local = 0;
    let remote = 0;
    for (let t = 0; t < VERSION; t++) {
      if (t === share.thread) local = Atomics.load(share.cells, t);
      else remote |= Atomics.load(share.cells, t);
    }
    this.update(local | remote, remote);
  }

  private update(flags: number, remote: number): void {
    this.remoteFlags = remote;
    const changed = flags !== this.flags;
    this.flags = flags;
    if (changed) this.onChange();
  }

  /** Sends `body` (an event without its `ts=... gid=...` head) to the watchers of `flag`. */
  emit(flag: number, body: string): void {
    if ((this.flags & flag) === 0) return;
    const now = Date.now();
    const gid = this.share === null ? ++this.gid : Atomics.add(this.share.cells, GID, 1) + 1;
    const line = `ts=${Math.floor(now / 1000)}.${(now % 1000) * 1000} gid=${gid} ${body}\n`;
    this.deliver(flag, line);
    if ((this.remoteFlags & flag) !== 0) this.send(this.share!, flag, line);
  }

  private send(share: WatchShare, flag: number, line: string): void {
    if (Atomics.load(share.cells, IN_FLIGHT) > MAX_IN_FLIGHT) {
      this.counters.log_watcher_skipped++;
      return;
    }
    Atomics.add(share.cells, IN_FLIGHT, line.length * (share.threads - 1));
    share.channel.postMessage({ flag, line });
  }

  private deliver(flag: number, line: string): void {
    for (const w of this.watchers) if ((w.flags & flag) !== 0) w.offer(line);
  }

  /** Stops listening to the other threads. */
  close(): void {
    this.share?.channel.close();
  }
}

/** The flags for `watch` arguments, or null if one is not a class name. No argument: fetchers. */
export function parseWatchClasses(names: string[]): number | null {
  if (names.length === 0) return FETCHERS;
  let flags = 0;
  for (const name of names) {
    const f = WATCH_CLASSES[name];
    if (f === undefined) return null;
    flags |= f;
  }
  return flags;
}
