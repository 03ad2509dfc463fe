/**
 * Values still arriving: many clients declaring big values and sending most of them, over text,
 * binary and HTTP, and HTTP bodies of one-byte chunks. The bytes held for them are bounded by
 * --max-inflight across all clients; beyond it memcached's out-of-memory answer (or 503).
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { assertHealthy, RssWatch, sleep, stat, storeSentinels } from "../helpers/hostile.ts";
import { type Child, startMemcached, startOurs } from "../helpers/server.ts";
import { packet, setExtras } from "../helpers/binary.ts";

const DECLARED = 1_000_000;
const SENT = 900_000;

/** `count` text clients each declaring a 1 MB value and sending 900 KB of it. */
async function textFlood(port: number, count: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  const part = "x".repeat(SENT);
  for (let i = 0; i < count; i++) {
    const c = await RawClient.connect(port);
    await c.send(`set flood${i} 0 0 ${DECLARED}\r\n${part}`);
    clients.push(c);
  }
  return clients;
}

Deno.test("100 text clients each holding 900 KB of a 1 MB value: bounded, refused past the limit (memcached alongside)", async () => {
  const ours = await startOurs(["--max-inflight", "32m"]);
  const real = await startMemcached(["-m", "64"]);
  try {
    await storeSentinels(ours.port);
    for (const child of [ours, real].filter((c): c is Child => c !== null)) {
      const watch = new RssWatch(child.process.pid);
      const base = watch.peak;
      const clients = await textFlood(child.port, 100);
      await sleep(500);
      const answers = await Promise.all(clients.map((c) => c.readFor(200)));
      const refused = answers.filter((a) => a === "SERVER_ERROR out of memory storing object\r\n");
      for (const c of clients) c.close();
      await sleep(300);
      const after = watch.stop();
      const name = child === ours ? "ours" : "memcached";
      console.log(
        `${name}: ${refused.length} refused; RSS ${base.toFixed(0)} -> peak ` +
          `${watch.peak.toFixed(0)} -> ${after.toFixed(0)} MiB`,
      );
      if (child === ours) {
        assert.ok(refused.length >= 60, `only ${refused.length} refused`);
        assert.ok(watch.peak - base < 150, `peak ${watch.peak} MiB from ${base}`);
        assert.ok(await stat(ours.port, "store_no_memory") >= 60);
      }
    }
    await assertHealthy(ours, "after the text flood");
  } finally {
    await ours.stop();
    await real?.stop();
  }
});

Deno.test("binary clients holding partial 1 MB values: ENOMEM past --max-inflight", async () => {
  const server = await startOurs(["--max-inflight", "8m"]);
  const conns: Deno.Conn[] = [];
  try {
    await storeSentinels(server.port);
    const watch = new RssWatch(server.process.pid);
    const base = watch.peak;
    const key = new TextEncoder().encode("k");
    const whole = packet({
      opcode: 0x01,
      key,
      extras: setExtras(0, 0),
      value: new Uint8Array(DECLARED),
    });
    let refused = 0;
    for (let i = 0; i < 30; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      await conn.write(whole.subarray(0, SENT));
      conns.push(conn);
      const head = new Uint8Array(24);
      const n = await Promise.race([conn.read(head), sleep(100).then(() => -1)]);
      if (n !== -1 && n !== null && head[7] === 0x82) refused++;
    }
    assert.ok(refused >= 20, `only ${refused} refused`);
    for (const c of conns.splice(0)) c.close();
    watch.stop();
    assert.ok(watch.peak - base < 100, `peak ${watch.peak} MiB from ${base}`);
    await assertHealthy(server, "after the binary flood");
  } finally {
    for (const c of conns) c.close();
    await server.stop();
  }
});

Deno.test("HTTP bodies: 503 past --max-inflight; one-byte chunks refused before they cost memory", async () => {
  const server = await startOurs(["--max-inflight", "8m", "--http-conn-limit", "100"]);
  const slow: RawClient[] = [];
  try {
    await storeSentinels(server.port);
    const watch = new RssWatch(server.process.pid);
    const base = watch.peak;
    for (let i = 0; i < 12; i++) {
      const c = await RawClient.connect(server.httpPort);
      await c.send(
        `PUT /keys/h${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${DECLARED}\r\n\r\n` +
          "y".repeat(1000),
      );
      slow.push(c);
    }
    const answers = await Promise.all(slow.map((c) => c.readFor(300)));
    const unavailable = answers.filter((a) => a.startsWith("HTTP/1.1 503"));
    assert.ok(unavailable.length >= 4, `${unavailable.length} of 12 got 503`);
    for (const c of slow.splice(0)) c.close();

    // One-byte chunks cost the runtime about a kilobyte each: 50,000 of them are refused once
    // 4,096 have come (400), and the memory stays bounded.
    const tiny = await RawClient.connect(server.httpPort);
    await tiny.send(
      `PUT /keys/tiny HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n` +
        "1\r\nz\r\n".repeat(50_000) + "0\r\n\r\n",
    );
    assert.match(await tiny.readUntil((t) => t.includes("\r\n\r\n"), 8000), /^HTTP\/1.1 400/);
    tiny.close();
    // The same 50 KB in 500-byte chunks is stored whole.
    const c = await RawClient.connect(server.httpPort);
    const chunks = `1f4\r\n${"z".repeat(500)}\r\n`.repeat(100);
    await c.send(
      `PUT /keys/chunky HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`,
    );
    assert.match(await c.readUntil((t) => t.includes("\r\n\r\n"), 8000), /^HTTP\/1.1 204/);
    c.close();
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/keys/chunky`);
    assert.equal((await res.arrayBuffer()).byteLength, 50_000);
    watch.stop();
    assert.ok(watch.peak - base < 100, `peak ${watch.peak} MiB from ${base}`);
    await assertHealthy(server, "after the HTTP bodies");
  } finally {
    for (const c of slow) c.close();
    await server.stop();
  }
});
