/**
 * `watch` over the text protocol, where memcached's timing cannot be compared byte for byte: a
 * watcher that does not read loses lines and is told how many, several watchers at once, and the
 * log_watchers count following them.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { NO_MEMCACHED, startMemcached, startOurs } from "../helpers/server.ts";

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
    // Once it has read everything in flight (socket buffers may hold megabytes), it gets lines again.
    while ((await watcher.readFor(300)).length > 0) { /* draining */ }
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

/** Fills a small cache through `client` and returns the first eviction lines `watcher` sees. */
async function evictionLines(port: number): Promise<string[]> {
  const watcher = await RawClient.connect(port);
  const client = await RawClient.connect(port);
  try {
    assert.equal(await watcher.call("watch evictions\r\n"), "OK\r\n");
    const value = "v".repeat(20000);
    for (let i = 0; i < 400; i++) {
      await client.call(
        `set fill:${i} 0 ${i % 2 === 0 ? 0 : 1000} ${value.length}\r\n${value}\r\n`,
      );
      if (i === 10) await client.call("get fill:1\r\n", "END\r\n");
    }
    const text = await watcher.readUntil((t) => t.split("\n").length > 3, 5000);
    return text.split("\n").filter((l) => l.includes("type=eviction"));
  } finally {
    watcher.close();
    client.close();
  }
}

const EVICTION_LINE =
  /^ts=\d+\.\d+ gid=\d+ type=eviction key=fill%3A\d+ fetch=(yes|no) ttl=-?\d+ la=\d+ clsid=\d+ size=20000$/;

Deno.test("watch evictions: one line per live item thrown out, in memcached's format", async () => {
  const server = await startOurs(["-m", "1", "-I", "512k"]);
  try {
    const lines = await evictionLines(server.port);
    assert.ok(lines.length > 0, "evictions were reported");
    for (const line of lines) assert.match(line, EVICTION_LINE);
  } finally {
    await server.stop();
  }
});

Deno.test("watch evictions: memcached's own lines have the shape checked above", {
  ignore: NO_MEMCACHED,
}, async () => {
  const real = await startMemcached(["-m", "1", "-I", "512k"]);
  try {
    const lines = await evictionLines(real.port);
    assert.ok(lines.length > 0);
    for (const line of lines) assert.match(line, EVICTION_LINE);
  } finally {
    await real.stop();
  }
});
