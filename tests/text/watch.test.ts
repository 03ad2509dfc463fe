/**
 * `watch` over the text protocol, where memcached's timing cannot be compared byte for byte: a
 * watcher that does not read loses lines and is told how many, several watchers at once, and the
 * log_watchers count following them.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { startOurs } from "../helpers/server.ts";

async function statValue(c: RawClient, name: string): Promise<number> {
  const stats = await c.call("stats\r\n", "END\r\n");
  return Number(new RegExp(`STAT ${name} (\\d+)`).exec(stats)![1]);
}

Deno.test("a watcher that falls behind gets skipped=N instead of an ever larger buffer", async () => {
  const server = await startOurs(["-o", "watcher_logbuf_size=8"]);
  const watcher = await RawClient.connect(server.port);
  const client = await RawClient.connect(server.port);
  try {
    assert.equal(await watcher.call("watch fetchers\r\n"), "OK\r\n");
    // ~260 bytes per line, 20000 lines: far more than the socket buffers and 8 KB hold.
    const spacer = "X".repeat(180);
    for (let round = 0; round < 20; round++) {
      let req = "";
      for (let i = 0; i < 1000; i++) req += `get foo${round}_${i}${spacer}\r\n`;
      await client.send(req + "version\r\n");
      await client.readUntil((t) => t.endsWith("VERSION 1.6.18\r\n"));
    }
    assert.ok(await statValue(client, "log_watcher_skipped") > 0);
    const seen = await watcher.readUntil((t) => /\nskipped=\d+\n/.test(t), 5000);
    assert.match(seen, /\nskipped=\d+\nts=\d+\.\d+ gid=\d+ type=item_get /);
    // Once it reads again, it gets lines again.
    await client.call("get after\r\n", "END\r\n");
    assert.match(
      await watcher.readUntil((t) => t.includes("key=after")),
      /key=after status=not_found/,
    );
  } finally {
    watcher.close();
    client.close();
    await server.stop();
  }
});

Deno.test("several watchers at once, each with its classes; log_watchers follows them", async () => {
  const server = await startOurs();
  const client = await RawClient.connect(server.port);
  const fetchers = await RawClient.connect(server.port);
  const mutations = await RawClient.connect(server.port);
  try {
    assert.equal(await fetchers.call("watch fetchers\r\n"), "OK\r\n");
    assert.equal(await mutations.call("watch mutations\r\n"), "OK\r\n");
    assert.equal(await statValue(client, "log_watchers"), 2);
    await client.call("set k 0 0 1\r\nx\r\n");
    assert.match(await fetchers.readUntil((t) => t.includes("\n")), /type=item_get key=k /);
    assert.match(await mutations.readUntil((t) => t.includes("\n")), /type=item_store key=k /);
    fetchers.close();
    mutations.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await statValue(client, "log_watchers"), 0);
  } finally {
    client.close();
    await server.stop();
  }
});
