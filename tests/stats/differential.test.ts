/** The same commands move the same `stats` counters here as in the real memcached. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { readCounters } from "../helpers/stats.ts";
import { NO_MEMCACHED, startMemcached, startOurs } from "../helpers/server.ts";

// Not compared: reclaimed, expired_unfetched and get_flushed, which depend on when memcached's
// background LRU maintainer reaches dead items (it unlinks flushed ones soon after flush_all).
// For the same reason the workload reads an expired item only right after storing it; that every
// command counts the dead item it meets is tested on the store (store_compact.test.ts).

const WORKLOAD = [
  "set a 0 0 1\r\nx\r\n",
  "set b 5 0 3\r\nabc\r\n",
  "get a b c\r\n",
  "gets a\r\n",
  "add a 0 0 1\r\ny\r\n",
  "add c 0 0 2\r\nzz\r\n",
  "replace d 0 0 1\r\nq\r\n",
  "append a 0 0 3\r\nmore\r\n",
  "append a 0 0 3\r\nmor\r\n",
  "prepend b 0 0 1\r\n<\r\n",
  "cas a 0 0 1 999999\r\nq\r\n",
  "cas nokey 0 0 1 1\r\nq\r\n",
  "set n 0 0 2\r\n10\r\n",
  "incr n 5\r\n",
  "decr n 100\r\n",
  "incr none 1\r\n",
  "decr none 1\r\n",
  "incr a 1\r\n",
  "touch a 100\r\n",
  "touch none 100\r\n",
  "gat 100 a none\r\n",
  "gats 100 b\r\n",
  "delete c\r\n",
  "delete c\r\n",
  "set e 0 -1 1\r\nx\r\n",
  "get e\r\n",
  `set big 0 0 2000000\r\n${"v".repeat(2000000)}\r\n`,
  "flush_all 0 noreply\r\n",
  "set after 0 0 5\r\nhello\r\n",
  "get after\r\n",
  // Non-zero client flags take 4 bytes of the item in memcached's `bytes`.
  "set flagged 9 0 2\r\nhi\r\n",
];

async function countersAfterWorkload(port: number): Promise<Record<string, number>> {
  const c = await RawClient.connect(port);
  try {
    for (const step of WORKLOAD) {
      await c.send(step);
      // Wait for the answer so the steps happen in order on both servers.
      if (!step.includes("noreply")) await c.readUntil((t) => t.endsWith("\r\n"), 2000);
    }
    // Both servers reclaim flushed items in the background soon after flush_all (memcached's LRU
    // maintainer, our flush sweep after 100 ms): curr_items and bytes are compared once they have.
    await new Promise((r) => setTimeout(r, 500));
    return await readCounters(c);
  } finally {
    c.close();
  }
}

Deno.test(
  "stats counters move as memcached's do for the same commands",
  { ignore: NO_MEMCACHED },
  async () => {
    const real = await startMemcached();
    const ours = await startOurs();
    try {
      const expected = await countersAfterWorkload(real.port);
      const actual = await countersAfterWorkload(ours.port);
      assert.deepEqual(actual, expected);
    } finally {
      await real.stop();
      await ours.stop();
    }
  },
);

async function statNames(port: number): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    const stats = await c.call("stats\r\n", "END\r\n");
    return [...stats.matchAll(/^STAT (\S+) /gm)].map((m) => m[1]);
  } finally {
    c.close();
  }
}

Deno.test(
  "stats lists memcached's general stats, in memcached's order",
  { ignore: NO_MEMCACHED },
  async () => {
    const real = await startMemcached();
    const ours = await startOurs();
    try {
      const expected = await statNames(real.port);
      const actual = await statNames(ours.port);
      assert.deepEqual(expected.filter((n) => !actual.includes(n)), [], "missing stats");
      assert.deepEqual(actual.filter((n) => expected.includes(n)), expected, "order");
    } finally {
      await real.stop();
      await ours.stop();
    }
  },
);
