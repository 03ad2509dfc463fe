/**
 * The store lock: one word in shared memory, a futex mutex (Drepper's "mutex2": 0 free, 1 held,
 * 2 held with waiters). A thread takes it on its first store call in a turn and keeps it while it
 * serves that batch; the door gives it back right after (connection.ts), and a microtask gives it
 * back otherwise, so it is never held across an await: other threads wait microseconds, never for
 * I/O. It is held by a thread, not by a call, so nested store calls take it once.
 */
const SPINS = 100;
const WAIT_MS = 50;
/** A holder that keeps it this long has died or hung: the process stops rather than hang. */
const GIVE_UP_MS = 10_000;

export class StoreLock {
  held = false;
  /** Runs while the lock is still held, right before it is given back (the log's write-out). */
  beforeRelease: (() => void) | null = null;
  private turn = 0;
  private readonly releaseLater = (turn: number) => {
    if (this.held && this.turn === turn) this.release();
  };

  constructor(
    private readonly cells: Int32Array,
    private readonly at: number,
    /** Called right after each acquisition (the store remaps grown buffers). */
    private readonly onAcquire: () => void,
  ) {}

  acquire(): void {
    if (this.held) return;
    if (Atomics.compareExchange(this.cells, this.at, 0, 1) !== 0) this.contended();
    this.held = true;
    this.onAcquire();
    const turn = ++this.turn;
    queueMicrotask(() => this.releaseLater(turn));
  }

  release(): void {
    if (!this.held) return;
    if (this.beforeRelease !== null) this.beforeRelease();
    this.held = false;
    if (Atomics.sub(this.cells, this.at, 1) !== 1) {
      Atomics.store(this.cells, this.at, 0);
      Atomics.notify(this.cells, this.at, 1);
    }
  }

  private contended(): void {
    const cells = this.cells;
    const at = this.at;
    for (let i = 0; i < SPINS; i++) {
      if (Atomics.load(cells, at) === 0 && Atomics.compareExchange(cells, at, 0, 1) === 0) return;
    }
    let waited = 0;
    let c = Atomics.exchange(cells, at, 2);
    while (c !== 0) {
      if (Atomics.wait(cells, at, 2, WAIT_MS) === "timed-out") {
        waited += WAIT_MS;
        if (waited >= GIVE_UP_MS) {
          console.error(`error: the store lock was held for over ${GIVE_UP_MS / 1000} s; stopping`);
          Deno.exit(70);
        }
      }
      c = Atomics.exchange(cells, at, 2);
    }
  }
}
