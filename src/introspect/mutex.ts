/**
 * A mutex in one cell of shared memory (Drepper's "mutex2": 0 free, 1 held, 2 held with waiters),
 * for the short critical sections of the tables threads share besides the store (hot keys,
 * `stats detail`, the connection list). Never held across an await.
 */
const WAIT_MS = 50;
/** As the store lock (lock.ts): a holder this slow has died, and the process stops, not hangs. */
const GIVE_UP_MS = 10_000;

export function lock(cells: Int32Array, at: number): void {
  if (Atomics.compareExchange(cells, at, 0, 1) === 0) return;
  let waited = 0;
  let c = Atomics.exchange(cells, at, 2);
  while (c !== 0) {
    if (Atomics.wait(cells, at, 2, WAIT_MS) === "timed-out" && (waited += WAIT_MS) >= GIVE_UP_MS) {
      console.error(
        `error: a shared table's lock was held for over ${GIVE_UP_MS / 1000} s; stopping`,
      );
      Deno.exit(70);
    }
    c = Atomics.exchange(cells, at, 2);
  }
}

export function unlock(cells: Int32Array, at: number): void {
  if (Atomics.sub(cells, at, 1) !== 1) {
    Atomics.store(cells, at, 0);
    Atomics.notify(cells, at, 1);
  }
}
