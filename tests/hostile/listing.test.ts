/** A listing of half a million keys is scanned in slices: other clients are served meanwhile. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { assertHealthy, storeSentinels } from "../helpers/hostile.ts";
import { startOurs } from "../helpers/server.ts";

const KEYS = 500_000;

Deno.test("GET /keys over 500,000 keys does not hold up memcached clients while it scans", async () => {
  const server = await startOurs(["-m", "256"]);
  try {
    await storeSentinels(server.port);
    const c = await RawClient.connect(server.port);
    for (let at = 0; at < KEYS; at += 50_000) {
      let batch = "";
      for (let i = at; i < at + 50_000; i++) batch += `set key${i} 0 0 1 noreply\r\nx\r\n`;
      assert.equal(await c.call(batch + "version\r\n"), "VERSION 1.6.18\r\n");
    }
    let listed = false;
    const listing = fetch(`http://127.0.0.1:${server.httpPort}/keys?prefix=key49999&limit=20`)
      .then((r) => r.json())
      .finally(() => (listed = true));
    // Answers that come back while the listing is still scanning.
    let during = 0;
    while (!listed) {
      assert.equal(await c.call("version\r\n"), "VERSION 1.6.18\r\n");
      if (!listed) during++;
    }
    const page = await listing;
    assert.deepEqual(page.keys, [
      "key49999",
      ...Array.from({ length: 10 }, (_, i) => `key49999${i}`),
    ]);
    console.log(`${during} answers while the listing ran`);
    assert.ok(during >= 5, `only ${during} answers while the listing ran`);
    c.close();
    await assertHealthy(server, "after the big listing");
  } finally {
    await server.stop();
  }
});
