/**
 * Amplifying reads: answers far larger than the requests (pipelined gets of a big value, one long
 * multi-get line, a multi-key HTTP read) and clients that do not read them. Output is streamed
 * with backpressure, so memory stays bounded; memcached runs the same attack alongside.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { assertHealthy, RssWatch, sleep, storeSentinels } from "../helpers/hostile.ts";
import { type Child, startMemcached, startOurs } from "../helpers/server.ts";

const BIG = 500_000;
/** Ours may grow this much over its baseline during an attack (memcached: a few MiB). */
const GROWTH_MIB = 150;

async function storeBig(port: number): Promise<void> {
  const c = await RawClient.connect(port);
  await c.send(`set big 0 0 ${BIG}\r\n${"x".repeat(BIG)}\r\n`);
  assert.equal(await c.readUntil((t) => t.endsWith("\r\n")), "STORED\r\n");
  c.close();
}

/** Reads until `bytes` arrived or the peer closed; returns the count. */
async function drain(conn: Deno.Conn, bytes: number): Promise<number> {
  const chunk = new Uint8Array(1 << 20);
  let total = 0;
  while (total < bytes) {
    const n = await conn.read(chunk);
    if (n === null) break;
    total += n;
  }
  return total;
}

const pipelined = new TextEncoder().encode("get big\r\n".repeat(Math.floor(16384 / 9)));
const gets = Math.floor(16384 / 9);
const answerBytes = `VALUE big 0 ${BIG}\r\n`.length + BIG + 2 + "END\r\n".length;

Deno.test("16 KB of pipelined `get big` (500 KB): RSS bounded while unread, every byte sent", async () => {
  const ours = await startOurs();
  const real = await startMemcached();
  try {
    await storeSentinels(ours.port);
    for (const child of [ours, real].filter((c): c is Child => c !== null)) {
      await storeBig(child.port);
      const watch = new RssWatch(child.process.pid);
      const base = watch.peak;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: child.port });
      await conn.write(pipelined);
      await sleep(1000); // a client that does not read
      const during = watch.sample();
      assert.equal(await drain(conn, gets * answerBytes), gets * answerBytes);
      conn.close();
      watch.stop();
      console.log(
        `${child === ours ? "ours" : "memcached"}: ${base.toFixed(0)} MiB before, ` +
          `${during.toFixed(0)} while unread, peak ${watch.peak.toFixed(0)}`,
      );
      if (child === ours) {
        assert.ok(watch.peak - base < GROWTH_MIB, `peak ${watch.peak} MiB from ${base}`);
      }
    }
    await assertHealthy(ours, "after the pipelined gets");
  } finally {
    await ours.stop();
    await real?.stop();
  }
});

Deno.test("one 40 KB `get big big ...` line: streamed, and dropped when the client goes", async () => {
  const server = await startOurs();
  try {
    await storeSentinels(server.port);
    await storeBig(server.port);
    const watch = new RssWatch(server.process.pid);
    const base = watch.peak;
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await conn.write(new TextEncoder().encode(`get${" big".repeat(10_000)}\r\n`));
    // 5 GB of answer: read 50 MB of it, stall, then hang up.
    assert.ok(await drain(conn, 50 << 20) >= 50 << 20);
    await sleep(500);
    conn.close();
    await sleep(300);
    watch.stop();
    assert.ok(watch.peak - base < GROWTH_MIB, `peak ${watch.peak} MiB from ${base}`);
    await assertHealthy(server, "after the long multi-get");
  } finally {
    await server.stop();
  }
});

Deno.test("50 clients pipeline gets of a big value and never read: RSS bounded", async () => {
  const server = await startOurs();
  const conns: Deno.Conn[] = [];
  try {
    await storeSentinels(server.port);
    await storeBig(server.port);
    const watch = new RssWatch(server.process.pid);
    const base = watch.peak;
    for (let i = 0; i < 50; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      await conn.write(pipelined);
      conns.push(conn);
    }
    await sleep(1500);
    await assertHealthy(server, "while 50 clients do not read");
    for (const c of conns.splice(0)) c.close();
    await sleep(500);
    const after = watch.stop();
    assert.ok(watch.peak - base < 2 * GROWTH_MIB, `peak ${watch.peak} MiB from ${base}`);
    assert.ok(after - base < GROWTH_MIB, `after: ${after} MiB from ${base}`);
  } finally {
    for (const c of conns) c.close();
    await server.stop();
  }
});

Deno.test("GET /keys?key=... past 4 MB of values is 413 with the limit; below it, 200", async () => {
  const server = await startOurs();
  try {
    await storeSentinels(server.port);
    await storeBig(server.port);
    const base = `http://127.0.0.1:${server.httpPort}/keys?`;
    const watch = new RssWatch(server.process.pid);
    const res = await fetch(base + "key=big&".repeat(1000));
    const body = await res.json();
    assert.equal(res.status, 413);
    assert.equal(body.error, "too_large");
    assert.match(body.message, /4194304/);
    const ok = await fetch(base + "key=big&".repeat(8));
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).items.length, 8);
    watch.stop();
    assert.ok(watch.peak < 300, `peak ${watch.peak} MiB`);
    await assertHealthy(server, "after the multi-key reads");
  } finally {
    await server.stop();
  }
});
