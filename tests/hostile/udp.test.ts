/**
 * UDP amplification against the server itself: small datagrams that ask for huge answers (a
 * multi-get of one big value, repeated). UDP has no backpressure, so the server must bound what it
 * queues and how long one datagram holds the event loop.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { RawClient } from "../helpers/client.ts";
import { assertHealthy, RssWatch, storeSentinels } from "../helpers/hostile.ts";
import { freeUdpPort, startOurs } from "../helpers/server.ts";

const BIG = 500_000;
/** One datagram: a multi-get of the big value as often as 60 KB allows (about 15 GB of answer). */
const KEYS = 60_000 / 4;
const DATAGRAMS = 40;
/** Ours may grow this much over its baseline during the attack. */
const GROWTH_MIB = 150;

Deno.test("UDP: datagrams asking for gigabytes neither stall the server nor fill its memory", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const udpPort = await freeUdpPort();
  const server = await startOurs(["-U", String(udpPort), "-m", "64"]);
  const attacker = dgram.createSocket("udp4");
  try {
    await storeSentinels(server.port);
    const tcp = await RawClient.connect(server.port);
    assert.equal(await tcp.call(`set b 0 0 ${BIG}\r\n${"x".repeat(BIG)}\r\n`), "STORED\r\n");
    const baseline = new RssWatch(server.process.pid).stop();
    const watch = new RssWatch(server.process.pid);

    let received = 0;
    attacker.on("message", (m: Uint8Array) => (received += m.length));
    await new Promise<void>((r) => attacker.bind(0, "127.0.0.1", () => r()));
    const body = new TextEncoder().encode(`get${" b".repeat(KEYS)}\r\n`);
    const frame = new Uint8Array(8 + body.length);
    frame.set([0, 1, 0, 0, 0, 1, 0, 0]);
    frame.set(body, 8);

    // While the datagrams arrive, a TCP client's requests keep being answered promptly.
    let slowest = 0;
    for (let i = 0; i < DATAGRAMS; i++) {
      attacker.send(frame, udpPort, "127.0.0.1");
      const started = performance.now();
      const answered = tcp.call("get sentinel0\r\n", "END\r\n").then((a) => a.length > 5);
      const late = new Promise<string>((r) => setTimeout(() => r("no answer within 5 s"), 5000));
      assert.equal(await Promise.race([answered, late]), true);
      slowest = Math.max(slowest, performance.now() - started);
    }
    await new Promise((r) => setTimeout(r, 500));
    const peak = watch.stop();
    tcp.close();

    assert.ok(received > 0, "some of the answer arrived");
    // Each answer is cut once 4 MiB wait in the socket: far from the 7.5 GB asked for.
    assert.ok(received < DATAGRAMS * 8 * 1024 * 1024, `${received} bytes came back`);
    assert.ok(slowest < 2000, `a TCP get waited ${slowest.toFixed(0)} ms behind the datagrams`);
    assert.ok(
      watch.peak - baseline < GROWTH_MIB,
      `RSS ${baseline.toFixed(0)} -> peak ${watch.peak.toFixed(0)} MiB (now ${peak.toFixed(0)})`,
    );
    await assertHealthy(server, "after the UDP flood");
  } finally {
    attacker.close();
    await server.stop();
  }
});
