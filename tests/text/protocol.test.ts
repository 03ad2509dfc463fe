/** Behaviour of the text protocol that needs our own server's options or clock. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { type Child, startOurs } from "../helpers/server.ts";

async function withServer(args: string[], fn: (s: Child, c: RawClient) => Promise<void>) {
  const server = await startOurs(args);
  const client = await RawClient.connect(server.port);
  try {
    await fn(server, client);
  } finally {
    client.close();
    await server.stop();
  }
}

function stat(text: string, name: string): number {
  const m = new RegExp(`^STAT ${name} (\\S+)\\r$`, "m").exec(text);
  if (!m) throw new Error(`no stat ${name}`);
  return Number(m[1]);
}

Deno.test("expiry follows memcached's rules on the server's clock", async () => {
  await withServer(["--enable-debugtime"], async (_s, c) => {
    assert.equal(await c.call("set rel 0 10 1\r\nx\r\n"), "STORED\r\n");
    assert.equal(await c.call("set never 0 0 1\r\ny\r\n"), "STORED\r\n");
    const now = Math.floor(Date.now() / 1000);
    assert.equal(await c.call(`set abs 0 ${now + 100} 1\r\nz\r\n`), "STORED\r\n");
    assert.equal(await c.call("get rel\r\n", "END\r\n"), "VALUE rel 0 1\r\nx\r\nEND\r\n");
    assert.equal(await c.call("debugtime 11\r\n"), "OK\r\n");
    assert.equal(
      await c.call("get rel never abs\r\n", "END\r\n"),
      "VALUE never 0 1\r\ny\r\nVALUE abs 0 1\r\nz\r\nEND\r\n",
    );
    assert.equal(await c.call("debugtime 100\r\n"), "OK\r\n");
    assert.equal(await c.call("get abs never\r\n", "END\r\n"), "VALUE never 0 1\r\ny\r\nEND\r\n");
    const stats = await c.call("stats\r\n", "END\r\n");
    assert.equal(stat(stats, "get_expired"), 2);
    assert.equal(stat(stats, "curr_items"), 1);
  });
});

Deno.test("touch and gat move the expiry", async () => {
  await withServer(["--enable-debugtime"], async (_s, c) => {
    await c.call("set a 0 5 1\r\nx\r\nset b 0 5 1\r\ny\r\n");
    assert.equal(await c.call("touch a 100\r\n"), "TOUCHED\r\n");
    assert.equal(await c.call("gat 100 b\r\n", "END\r\n"), "VALUE b 0 1\r\ny\r\nEND\r\n");
    await c.call("debugtime 50\r\n");
    assert.equal(
      await c.call("get a b\r\n", "END\r\n"),
      "VALUE a 0 1\r\nx\r\nVALUE b 0 1\r\ny\r\nEND\r\n",
    );
    assert.equal(await c.call("touch a -1\r\n"), "TOUCHED\r\n");
    assert.equal(await c.call("get a\r\n", "END\r\n"), "END\r\n");
  });
});

Deno.test("flush_all with a delay kills items stored before the deadline", async () => {
  await withServer(["--enable-debugtime"], async (_s, c) => {
    await c.call("set a 0 0 1\r\nx\r\n");
    assert.equal(await c.call("flush_all 10\r\n"), "OK\r\n");
    assert.equal(await c.call("get a\r\n", "END\r\n"), "VALUE a 0 1\r\nx\r\nEND\r\n");
    await c.call("debugtime 10\r\n");
    assert.equal(await c.call("get a\r\n", "END\r\n"), "END\r\n");
    await c.call("set b 0 0 1\r\ny\r\n");
    assert.equal(await c.call("get b\r\n", "END\r\n"), "VALUE b 0 1\r\ny\r\nEND\r\n");
  });
});

Deno.test("flush_all: a get right after counts get_flushed; the items are reclaimed soon after", async () => {
  await withServer([], async (_s, c) => {
    await c.call("set a 0 0 1\r\nx\r\nset b 0 0 1\r\ny\r\n", "STORED\r\nSTORED\r\n");
    assert.equal(await c.call("flush_all\r\n"), "OK\r\n");
    assert.equal(await c.call("set c 0 0 1\r\nz\r\n"), "STORED\r\n");
    assert.equal(await c.call("get a c\r\n", "END\r\n"), "VALUE c 0 1\r\nz\r\nEND\r\n");
    const soon = await c.call("stats\r\n", "END\r\n");
    assert.equal(stat(soon, "get_flushed"), 1);
    assert.equal(stat(soon, "curr_items"), 2, "b is flushed where it lies until reclaimed");
    await new Promise((r) => setTimeout(r, 600));
    const later = await c.call("stats\r\n", "END\r\n");
    assert.equal(stat(later, "curr_items"), 1);
    // Counted as memcached's LRU maintainer counts the flushed items it unlinks.
    assert.equal(stat(later, "reclaimed"), 1);
    assert.equal(await c.call("get b c\r\n", "END\r\n"), "VALUE c 0 1\r\nz\r\nEND\r\n");
  });
});

Deno.test("-m bounds memory: least recently used items are evicted first", async () => {
  await withServer(["-m", "1", "-I", "512k"], async (_s, c) => {
    const value = "v".repeat(10000);
    for (let i = 0; i < 200; i++) {
      assert.equal(await c.call(`set key${i} 0 0 ${value.length}\r\n${value}\r\n`), "STORED\r\n");
      // Keep key0 recently used so it survives.
      if (i % 10 === 0) await c.call("get key0\r\n", "END\r\n");
    }
    const stats = await c.call("stats\r\n", "END\r\n");
    assert.ok(stat(stats, "evictions") > 0);
    assert.ok(stat(stats, "bytes") <= 1024 * 1024);
    assert.equal(stat(stats, "limit_maxbytes"), 1024 * 1024);
    assert.match(await c.call("get key0\r\n", "END\r\n"), /^VALUE key0 /);
    assert.equal(await c.call("get key1\r\n", "END\r\n"), "END\r\n");
    assert.match(await c.call("get key199\r\n", "END\r\n"), /^VALUE key199 /);
  });
});

Deno.test("-M refuses to store instead of evicting", async () => {
  await withServer(["-m", "1", "-I", "512k", "-M"], async (_s, c) => {
    const value = "v".repeat(100000);
    let refused = "";
    for (let i = 0; i < 20 && refused === ""; i++) {
      const r = await c.call(`set key${i} 0 0 ${value.length}\r\n${value}\r\n`);
      if (r !== "STORED\r\n") refused = r;
    }
    assert.equal(refused, "SERVER_ERROR out of memory storing object\r\n");
    const stats = await c.call("stats\r\n", "END\r\n");
    assert.equal(stat(stats, "evictions"), 0);
    assert.match(await c.call("get key0\r\n", "END\r\n"), /^VALUE key0 /);
    assert.equal(await c.call("version\r\n"), "VERSION 1.6.18\r\n");
  });
});

Deno.test("-I sets the largest item; a larger one is swallowed and the connection stays in sync", async () => {
  await withServer(["-I", "2k"], async (_s, c) => {
    const big = "b".repeat(3000);
    assert.equal(
      await c.call(`set a 0 0 ${big.length}\r\n${big}\r\nget a\r\n`, "END\r\n"),
      "SERVER_ERROR object too large for cache\r\nEND\r\n",
    );
    const ok = "o".repeat(1900);
    assert.equal(await c.call(`set a 0 0 ${ok.length}\r\n${ok}\r\n`), "STORED\r\n");
    const settings = await c.call("stats settings\r\n", "END\r\n");
    assert.equal(stat(settings, "item_size_max"), 2048);
  });
});

Deno.test("-C disables CAS: gets shows 0", async () => {
  await withServer(["-C"], async (_s, c) => {
    await c.call("set a 0 0 1\r\nx\r\n");
    assert.equal(await c.call("gets a\r\n", "END\r\n"), "VALUE a 0 1 0\r\nx\r\nEND\r\n");
  });
});

Deno.test("a value that arrives in many small reads is stored whole", async () => {
  await withServer([], async (_s, c) => {
    const value = new Uint8Array(500000).map((_, i) => i % 251);
    const head = new TextEncoder().encode(`set big 0 0 ${value.length}\r\n`);
    await c.send(head);
    for (let off = 0; off < value.length; off += 65536) {
      await c.send(value.subarray(off, off + 65536));
    }
    assert.equal(await c.call("\r\n"), "STORED\r\n");
    const got = await c.call("get big\r\n", "END\r\n");
    const body = got.slice(got.indexOf("\r\n") + 2, got.length - 7);
    assert.equal(body.length, value.length);
    for (let i = 0; i < value.length; i += 997) assert.equal(body.charCodeAt(i), value[i]);
  });
});

Deno.test("a deep pipeline is answered completely and in order", async () => {
  await withServer([], async (_s, c) => {
    let req = "";
    let expected = "";
    for (let i = 0; i < 2000; i++) {
      req += `set p${i} ${i} 0 ${String(i).length}\r\n${i}\r\nget p${i}\r\n`;
      expected += `STORED\r\nVALUE p${i} ${i} ${String(i).length}\r\n${i}\r\nEND\r\n`;
    }
    await c.send(req);
    const got = await c.readUntil((t) => t.length >= expected.length, 20000);
    assert.equal(got, expected);
  });
});

Deno.test("shutdown works only with -A", async () => {
  await withServer(["-A"], async (s, c) => {
    await c.send("shutdown\r\n");
    assert.ok(await c.closedByPeer());
    const status = await s.process.status;
    assert.equal(status.code, 0);
  });
});

Deno.test("stats reset zeroes counters; stats settings shows the flags", async () => {
  await withServer(["-m", "32", "-c", "77"], async (_s, c) => {
    await c.call("set a 0 0 1\r\nx\r\n");
    await c.call("get a b\r\n", "END\r\n");
    let stats = await c.call("stats\r\n", "END\r\n");
    assert.equal(stat(stats, "cmd_get"), 2);
    assert.equal(stat(stats, "get_hits"), 1);
    assert.equal(stat(stats, "get_misses"), 1);
    assert.equal(stat(stats, "cmd_set"), 1);
    assert.equal(stat(stats, "curr_items"), 1);
    assert.equal(stat(stats, "bytes"), 61);
    assert.equal(await c.call("stats reset\r\n"), "RESET\r\n");
    stats = await c.call("stats\r\n", "END\r\n");
    assert.equal(stat(stats, "cmd_get"), 0);
    assert.equal(stat(stats, "curr_items"), 1);
    const settings = await c.call("stats settings\r\n", "END\r\n");
    assert.equal(stat(settings, "maxbytes"), 32 * 1024 * 1024);
    assert.equal(stat(settings, "maxconns"), 77);
    assert.match(await c.call("stats items\r\n", "END\r\n"), /STAT items:1:number 1\r\n/);
    assert.match(await c.call("stats slabs\r\n", "END\r\n"), /STAT active_slabs 1\r\n/);
    assert.match(
      await c.call("stats conns\r\n", "END\r\n"),
      /STAT \d+:addr tcp:127\.0\.0\.1:\d+\r\n/,
    );
  });
});
