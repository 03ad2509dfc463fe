/**
 * `reclaimed` counts a dead item (expired or flushed) whose place is taken before a read meets it,
 * as memcached counts it: by a write to its key (memcached's allocation pulls it off the LRU tail,
 * t/issue_163.t and t/issue_183.t) and by the background sweep (memcached's LRU maintainer).
 * `lru_crawler crawl` counts crawler_reclaimed instead, as memcached's crawler does.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { readStats } from "../helpers/stats.ts";
import { type Child, NO_MEMCACHED, startMemcached, startOurs } from "../helpers/server.ts";

const NAMES = ["reclaimed", "crawler_reclaimed", "expired_unfetched", "get_expired", "get_flushed"];

/** The figures this file is about, global and per class, from `stats` and `stats items`. */
async function figures(c: RawClient): Promise<Record<string, number>> {
  const all = await readStats(c);
  const items = await readStats(c, "items");
  const out: Record<string, number> = {};
  for (const name of NAMES) out[name] = all[name];
  for (const [name, value] of Object.entries(items)) {
    if (/:(reclaimed|crawler_reclaimed|expired_unfetched)$/.test(name)) out[name] = value;
  }
  return out;
}

async function run(child: Child, steps: string[]): Promise<Record<string, number>> {
  const c = await RawClient.connect(child.port);
  try {
    for (const step of steps) await c.call(step);
    return await figures(c);
  } finally {
    c.close();
  }
}

const A = "A".repeat(66560);
const B = "B".repeat(66570);
/** A set over an item that expired (exptime -1) and one over an item flush_all made dead. */
const OVERWRITES = [
  `set key 0 -1 66560\r\n${A}\r\n`,
  `set key 0 0 66570\r\n${B}\r\n`,
  "set f 0 0 1\r\n1\r\n",
  "flush_all\r\n",
  "set f 0 0 1\r\n2\r\n",
];

Deno.test("a set over an expired or a flushed item counts reclaimed, global and per class", async () => {
  const ours = await startOurs();
  try {
    const got = await run(ours, OVERWRITES);
    assert.equal(got.reclaimed, 2, JSON.stringify(got));
    assert.equal(got["items:31:reclaimed"], 1);
    assert.equal(got["items:31:expired_unfetched"], 1);
    assert.equal(got["items:1:reclaimed"], 1);
    assert.equal(got.get_expired + got.get_flushed, 0, "no read met them");
  } finally {
    await ours.stop();
  }
});

Deno.test(
  "the same overwrites count what memcached -o no_modern counts (its allocation reclaims)",
  { ignore: NO_MEMCACHED },
  async () => {
    const real = await startMemcached(["-o", "no_modern"]);
    const ours = await startOurs();
    try {
      assert.deepEqual(await run(ours, OVERWRITES), await run(real, OVERWRITES));
    } finally {
      await real.stop();
      await ours.stop();
    }
  },
);

Deno.test("the background sweep counts reclaimed as memcached's LRU maintainer", {
  ignore: NO_MEMCACHED,
}, async () => {
  const steps = ["set k 0 1 1\r\nx\r\n", "set l 0 1 1\r\ny\r\n", "get l\r\n"];
  const real = await startMemcached();
  const ours = await startOurs(["--enable-debugtime"]);
  try {
    const theirs = (async () => {
      await run(real, steps);
      // memcached's clock and maintainer: the items die after 2 s, it comes round within 1 s more.
      await new Promise((r) => setTimeout(r, 4000));
      return await run(real, []);
    })();
    await run(ours, [...steps, "debugtime 3\r\n"]);
    await new Promise((r) => setTimeout(r, 2500)); // the sweeper's tick is 1 s
    const got = await run(ours, []);
    assert.equal(got.reclaimed, 2, JSON.stringify(got));
    assert.equal(got.expired_unfetched, 1);
    assert.deepEqual(got, await theirs);
  } finally {
    await real.stop();
    await ours.stop();
  }
});

Deno.test("-o no_modern: no background sweep; lru_crawler crawl counts crawler_reclaimed", async () => {
  // memcached's t/lru-crawler.t: with no LRU maintainer, the dead items wait for the crawler.
  const ours = await startOurs(["--enable-debugtime", "-o", "no_modern"]);
  try {
    const c = await RawClient.connect(ours.port);
    for (const k of ["a", "b", "c"]) await c.call(`set ${k} 0 100 1\r\nx\r\n`);
    await c.call("debugtime 101\r\n");
    await new Promise((r) => setTimeout(r, 2500)); // two ticks of the sweep, were it running
    const before = await readStats(c);
    assert.deepEqual([before.curr_items, before.reclaimed], [3, 0]);
    assert.equal(await c.call("lru_crawler enable\r\n"), "OK\r\n");
    assert.equal(await c.call("lru_crawler crawl 1\r\n"), "OK\r\n");
    await new Promise((r) => setTimeout(r, 200));
    const got = await figures(c);
    const settings = await c.call("stats settings\r\n", "END\r\n");
    c.close();
    assert.equal(got.crawler_reclaimed, 3, JSON.stringify(got));
    assert.equal(got.reclaimed, 0);
    assert.match(settings, /STAT lru_maintainer_thread no\r\n/);
  } finally {
    await ours.stop();
  }
});
