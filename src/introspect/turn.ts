import { setImmediate } from "node:timers";

/**
 * Resolves after other pending I/O has had its turn. setTimeout(0) would do the same, but Deno
 * clamps chained timers to milliseconds; setImmediate costs microseconds.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
