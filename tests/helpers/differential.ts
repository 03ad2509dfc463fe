/** Running the same cases against the real memcached and this server, one test step per case. */
import assert from "node:assert/strict";
import { type Child, startMemcached, startOurs } from "./server.ts";

/**
 * The real memcached's flags for comparing answers: its LRU maintainer briefly holds references to
 * items, and an incr that finds one held writes a new item instead of padding in place, so it is
 * off and answers depend on the requests alone.
 */
export const QUIET_MEMCACHED = ["-o", "no_lru_maintainer,no_lru_crawler"];

/** Runs `body` with a fresh memcached (started with `memcachedArgs`) and a fresh server of ours. */
export async function withBoth<T>(
  memcachedArgs: string[],
  body: (real: Child, ours: Child) => Promise<T>,
): Promise<T> {
  const real = await startMemcached(memcachedArgs);
  let ours: Child | null = null;
  try {
    ours = await startOurs();
    return await body(real, ours);
  } finally {
    await real.stop();
    await ours?.stop();
  }
}

/**
 * Starts memcached and this server, and for each case compares what `answer` gets from this
 * server with what it gets from memcached (asked first).
 */
export function eachCaseOnBoth<C>(
  t: Deno.TestContext,
  cases: Record<string, C>,
  answer: (port: number, name: string, value: C) => Promise<unknown>,
): Promise<void> {
  return withBoth([], async (real, ours) => {
    for (const [name, value] of Object.entries(cases)) {
      await t.step(name, async () => {
        const expected = await answer(real.port, name, value);
        assert.deepEqual(await answer(ours.port, name, value), expected);
      });
    }
  });
}
