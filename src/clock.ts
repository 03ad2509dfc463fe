/**
 * memcached's coarse clock: whole unix seconds, refreshed by a timer so that the hot path reads a
 * field instead of calling Date.now() per request. `advance` moves it forward for tests. The start
 * time and the test offset are shared by every worker thread (pass `buffer` to a worker's clock).
 */
const STARTED = 0;
const OFFSET = 1;

export class Clock {
  /** Unix time in whole seconds, as of the last tick. */
  private base = 0;
  /** Start time and offset, shared with the other threads' clocks. */
  readonly buffer: SharedArrayBuffer;
  private readonly cells: Float64Array;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(16);
    this.cells = new Float64Array(this.buffer);
    if (buffer === undefined) this.cells[STARTED] = Math.floor(Date.now() / 1000);
    this.refresh();
  }

  /**
   * Current unix time in whole seconds, including the test offset: read from the shared cell, so
   * a thread's `advance` moves every thread's clock at once.
   */
  get now(): number {
    return this.base + this.cells[OFFSET];
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
    this.base = Math.floor(Date.now() / 1000);
  }

  /** Moves the clock forward by `seconds` (tests and the debug endpoint only). */
  advance(seconds: number): void {
    this.cells[OFFSET] += seconds;
    this.refresh();
  }
}
