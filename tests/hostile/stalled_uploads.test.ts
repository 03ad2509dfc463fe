/**
 * 500 clients each start a 1 MB upload, send 900 KB of it and stall, then leave: over HTTP
 * (`PUT /keys/k`, Content-Length) and over the text door (`set k 0 0 1000000`). What they make the
 * server hold is bounded by --max-inflight (64 MB by default) plus the connections themselves,
 * and is given back when they go.
 */
import assert from "node:assert/strict";
import { assertHealthy, RssWatch, sleep, storeSentinels } from "../helpers/hostile.ts";
import { startOurs } from "../helpers/server.ts";

const CLIENTS = 500;
const DECLARED = 1_000_000;
const SENT = 900_000;
/** The bounds: the peak and the RSS 10 s after, over the RSS before the attack. */
const PEAK_MIB = 100;
const AFTER_MIB = 40;

/** Sends the head and as much of the body as the server takes within `ms`. */
async function stall(port: number, head: string, body: Uint8Array, ms: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode(head));
  const sending = (async () => {
    for (let off = 0; off < body.length;) off += await conn.write(body.subarray(off));
  })().catch(() => {});
  await Promise.race([sending, sleep(ms)]);
  return conn;
}

async function attack(door: "http" | "text") {
  const server = await startOurs();
  const conns: Deno.Conn[] = [];
  try {
    await storeSentinels(server.port);
    await sleep(500);
    const watch = new RssWatch(server.process.pid);
    const before = watch.sample();
    const body = new Uint8Array(SENT).fill(0x78);
    for (let i = 0; i < CLIENTS; i++) {
      const head = door === "http"
        ? `PUT /keys/up${i} HTTP/1.1\r\nHost: x\r\nContent-Length: ${DECLARED}\r\n\r\n`
        : `set up${i} 0 0 ${DECLARED}\r\n`;
      conns.push(await stall(door === "http" ? server.httpPort : server.port, head, body, 20));
    }
    await sleep(2000);
    for (const c of conns.splice(0)) {
      try {
        c.close();
      } catch { /* closed by the server */ }
    }
    const peak = watch.peak;
    await sleep(10_000);
    const after = watch.stop();
    console.log(
      `${door}: RSS ${before.toFixed(0)} MiB before, peak ${peak.toFixed(0)}, ` +
        `${after.toFixed(0)} 10 s after the clients left`,
    );
    assert.ok(peak - before < PEAK_MIB, `${door}: peak ${peak} MiB from ${before}`);
    assert.ok(after - before < AFTER_MIB, `${door}: ${after} MiB 10 s after, from ${before}`);
    await assertHealthy(server, `after the stalled ${door} uploads`);
  } finally {
    for (const c of conns) c.close();
    await server.stop();
  }
}

Deno.test("500 stalled 1 MB HTTP uploads: bounded while they stall, given back when they go", () =>
  attack("http"));

Deno.test("500 stalled 1 MB text sets: bounded while they stall, given back when they go", () =>
  attack("text"));
