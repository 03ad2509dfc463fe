/**
 * memcached's coarse clock: whole unix seconds, refreshed by a timer so that the hot path reads a
 * field instead of calling Date.now() per request. `advance` moves it forward for tests.
 */
export class Clock {
  /** Current unix time in whole seconds (including any test offset). */
  now: number;
  /** Unix time at which the process started, for `uptime`. */
  readonly started: number;
  private offset = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    this.now = Math.floor(Date.now() / 1000);
    this.started = this.now;
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
    this.now = Math.floor(Date.now() / 1000) + this.offset;
  }

  /** Moves the clock forward by `seconds` (tests and the debug endpoint only). */
  advance(seconds: number): void {
    this.offset += seconds;
    this.refresh();
  }
}
