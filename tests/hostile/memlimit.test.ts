/**
 * `cache_memlimit` from any client: raising the limit to memcached's maximum reserves nothing at
 * once; memory follows what is stored, as in memcached (alongside).
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { assertHealthy, RssWatch, storeSentinels } from "../helpers/hostile.ts";
import { type Child, startMemcached, startOurs } from "../helpers/server.ts";

Deno.test("cache_memlimit 1000000000 (MB) costs nothing until items are stored", async () => {
  const ours = await startOurs();
  const real = await startMemcached();
  try {
    await storeSentinels(ours.port);
    for (const child of [ours, real].filter((c): c is Child => c !== null)) {
      const watch = new RssWatch(child.process.pid);
      const base = watch.peak;
      const c = await RawClient.connect(child.port);
      assert.equal(await c.call("cache_memlimit 1000000000\r\n"), "OK\r\n");
      assert.equal(
        await c.call("cache_memlimit 1000000001\r\n"),
        "MEMLIMIT_ADJUST_FAILED input value is megabytes not bytes\r\n",
      );
      // 20 MB of items: memory grows by about that, not by the new limit.
      const value = "v".repeat(100_000);
      let batch = "";
      for (let i = 0; i < 200; i++) {
        batch += `set m${i} 0 0 ${value.length} noreply\r\n${value}\r\n`;
      }
      assert.equal(await c.call(batch + "version\r\n"), "VERSION 1.6.18\r\n");
      c.close();
      watch.stop();
      assert.ok(watch.peak - base < 100, `peak ${watch.peak} MiB from ${base}`);
    }
    await assertHealthy(ours, "after raising cache_memlimit");
  } finally {
    await ours.stop();
    await real?.stop();
  }
});
