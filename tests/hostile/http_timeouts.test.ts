/**
 * Slow HTTP clients: a head that never ends, keep-alive connections that sit idle, a client that
 * does not read its answers. Each is closed within its timeout, idle connections stop counting
 * against --http-conn-limit once closed, and the server keeps serving everyone else.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { assertHealthy, RssWatch, sleep, storeSentinels } from "../helpers/hostile.ts";
import { startOurs } from "../helpers/server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const TIMEOUTS = ["--http-timeout", "1000", "--http-idle-timeout", "3000"];

Deno.test(
  "a head sent a byte at a time is cut off after --http-timeout, an idle one after --http-idle-timeout",
  opts,
  async () => {
    const server = await startOurs(TIMEOUTS);
    try {
      await storeSentinels(server.port);
      const slow = await RawClient.connect(server.httpPort);
      const idle = await RawClient.connect(server.httpPort);
      const kept = await RawClient.connect(server.httpPort);
      const started = Date.now();
      // The deadline runs from the head's first byte: bytes that keep coming do not extend it.
      const drip = (async () => {
        const head = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(100);
        for (const ch of head) {
          try {
            await slow.send(ch);
          } catch {
            return;
          }
          await sleep(100);
        }
      })();
      const kept1 = await kept.call("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "}");
      assert.match(kept1, /^HTTP\/1\.1 200 /);
      assert.ok(await slow.closedByPeer(3500), "the dripping head was not cut off");
      const slowMs = Date.now() - started;
      assert.ok(slowMs >= 900 && slowMs < 3500, `cut off after ${slowMs} ms`);
      await drip;
      // Idle connections (nothing sent, or nothing after an answer) last past --http-timeout...
      assert.equal(await idle.closedByPeer(200), false);
      // ...until --http-idle-timeout.
      assert.ok(await idle.closedByPeer(4500), "the idle connection stayed open");
      assert.ok(await kept.closedByPeer(1500), "the kept-alive connection stayed open");
      const idleMs = Date.now() - started;
      assert.ok(idleMs >= 2900 && idleMs < 6500, `idle closed after ${idleMs} ms`);
      for (const c of [slow, idle, kept]) c.close();
      await assertHealthy(server, "after the slow clients");
    } finally {
      await server.stop();
    }
  },
);

Deno.test(
  "idle keep-alive connections count against --http-conn-limit until the idle timeout frees them",
  opts,
  async () => {
    const server = await startOurs([...TIMEOUTS, "--http-conn-limit", "8"]);
    const idle: RawClient[] = [];
    try {
      await storeSentinels(server.port);
      for (let i = 0; i < 8; i++) idle.push(await RawClient.connect(server.httpPort));
      await sleep(200);
      const refused = await fetch(`http://127.0.0.1:${server.httpPort}/keys/sentinel1`);
      assert.equal(refused.status, 503);
      assert.match(await refused.text(), /--http-conn-limit/);
      for (const c of idle) assert.ok(await c.closedByPeer(5000), "an idle connection stayed open");
      await assertHealthy(server, "once the idle connections were closed");
    } finally {
      for (const c of idle) c.close();
      await server.stop();
    }
  },
);

Deno.test(
  "a client that does not read its answers is closed after --http-timeout, holding one answer",
  opts,
  async () => {
    const server = await startOurs([...TIMEOUTS, "-I", "2m"]);
    try {
      await storeSentinels(server.port);
      const value = new Uint8Array(1 << 20).fill(120);
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`http://127.0.0.1:${server.httpPort}/keys/big${i}`, {
          method: "PUT",
          body: value,
        });
        assert.equal(res.status, 204);
      }
      const watch = new RssWatch(server.process.pid);
      const before = watch.sample();
      const reader = await RawClient.connect(server.httpPort);
      let asks = "";
      for (let i = 0; i < 64; i++) asks += `GET /keys/big${i % 4} HTTP/1.1\r\nHost: x\r\n\r\n`;
      await reader.send(asks);
      await sleep(3000);
      await assertHealthy(server, "while a client does not read");
      const got = await reader.readUntil(() => false, 3000);
      reader.close();
      const grown = watch.stop() - before;
      assert.ok(got.length < 16 << 20, `the client got ${got.length} bytes of 64 MiB of answers`);
      assert.ok(watch.peak - before < 48, `RSS grew ${watch.peak - before} MiB (now +${grown})`);
      await assertHealthy(server, "after the client that did not read");
    } finally {
      await server.stop();
    }
  },
);
