/**
 * memcached's coarse clock: whole unix seconds, refreshed by a timer so that the hot path reads a
 * field instead of calling Date.now() per request. `advance` moves it forward for tests. Every cell
 * lives in `buffer`, shared by the worker threads' clocks (pass it to a worker's clock): each
 * thread's timer moves the one shared second forward, so no thread reads a second another has left
 * behind (a set made right after another thread's flush_all would otherwise count as before it).
 */
const STARTED = 0;
const OFFSET = 1;
/** Bytes: two Float64 cells, then the Int32 seconds since STARTED. */
const SIZE = 24;

export class Clock {
  readonly buffer: SharedArrayBuffer;
  private readonly cells: Float64Array;
  /** Seconds from STARTED as of the latest tick of any thread; only ever moves forward. */
  private readonly elapsed: Int32Array;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(SIZE);
    this.cells = new Float64Array(this.buffer, 0, 2);
    this.elapsed = new Int32Array(this.buffer, 16, 1);
    if (buffer === undefined) this.cells[STARTED] = Math.floor(Date.now() / 1000);
    this.refresh();
  }

  /** Current unix time in whole seconds, including the test offset. */
  get now(): number {
    return this.cells[STARTED] + this.elapsed[0] + this.cells[OFFSET];
  }

  /** Unix time at which the process started, for `uptime`. */
  get started(): number {
    return this.cells[STARTED];
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.refresh(), 1000);
    Deno.unrefTimer(this.timer);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  refresh(): void {
    const elapsed = Math.floor(Date.now() / 1000) - this.cells[STARTED];
    let seen = Atomics.load(this.elapsed, 0);
    while (elapsed > seen) {
      const was = Atomics.compareExchange(this.elapsed, 0, seen, elapsed);
      if (was === seen) return;
      seen = was;
    }
  }

  /** Moves the clock forward by `seconds` (tests and the debug endpoint only). */
  advance(seconds: number): void {
    this.cells[OFFSET] += seconds;
    this.refresh();
  }
}
