/** Running the same cases against the real memcached and this server, one test step per case. */
import assert from "node:assert/strict";
import { type Child, startMemcached, startOurs } from "./server.ts";

/**
 * Starts memcached and this server, and for each case compares what `answer` gets from this
 * server with what it gets from memcached (asked first).
 */
export async function eachCaseOnBoth<C>(
  t: Deno.TestContext,
  cases: Record<string, C>,
  answer: (port: number, name: string, value: C) => Promise<unknown>,
): Promise<void> {
  const real = await startMemcached();
  let ours: Child | null = null;
  try {
    ours = await startOurs();
    for (const [name, value] of Object.entries(cases)) {
      await t.step(name, async () => {
        const expected = await answer(real.port, name, value);
        assert.deepEqual(await answer(ours!.port, name, value), expected);
      });
    }
  } finally {
    await real.stop();
    await ours?.stop();
  }
}
