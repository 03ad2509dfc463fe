/**
 * TLS without new ways to hurt the server: a client that opens TCP and stalls, or drips its
 * ClientHello, is closed within --tls-handshake-timeout while others are served; plain text on the
 * TLS port closes that connection only; failed handshakes are counted, not logged at the default
 * level; -c, the idle timeout and output backpressure hold for TLS connections.
 */
import assert from "node:assert/strict";
import { makeCerts, NO_OPENSSL, type TestCerts, tlsArgs, tlsClient } from "../helpers/certs.ts";
import { RawClient } from "../helpers/client.ts";
import { RssWatch, sleep } from "../helpers/hostile.ts";
import { startOurs } from "../helpers/server.ts";

async function tlsStat(certs: TestCerts, port: number, name: string): Promise<number> {
  const c = await tlsClient(certs, port);
  try {
    const m = new RegExp(`STAT ${name} (\\d+)`).exec(await c.call("stats\r\n", "END\r\n"));
    assert.ok(m !== null, `no stat ${name}`);
    return Number(m[1]);
  } finally {
    c.close();
  }
}

/** Milliseconds until the server ends `conn` (EOF or reset), or Infinity past `ms`. */
async function closedAfter(conn: Deno.Conn, started: number, ms: number): Promise<number> {
  const buf = new Uint8Array(1024);
  let gaveUp = false;
  const deadline = setTimeout(() => {
    gaveUp = true;
    conn.close();
  }, ms);
  try {
    while (await conn.read(buf) !== null) { /* a TLS alert, perhaps */ }
  } catch {
    /* reset */
  } finally {
    clearTimeout(deadline);
  }
  return gaveUp ? Infinity : Date.now() - started;
}

const BOUND_MS = 1500;

Deno.test({
  name: "a stalled and a dripping handshake are closed within the bound while others are served",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const s = await startOurs([
      ...tlsArgs(certs, "--tls-handshake-timeout", String(BOUND_MS)),
      "--http-port",
      "0",
    ]);
    try {
      const before = await tlsStat(certs, s.port, "ssl_handshake_errors");
      const started = Date.now();
      const stalled = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      const dripped = await Deno.connect({ hostname: "127.0.0.1", port: s.port });
      // A handshake record header promising 512 bytes, then one byte every 100 ms.
      const drip = (async () => {
        const bytes = [0x16, 0x03, 0x01, 0x02, 0x00, ...new Array(400).fill(0x01)];
        for (const b of bytes) {
          await dripped.write(new Uint8Array([b]));
          await sleep(100);
        }
      })().catch(() => {});
      const ends = [
        closedAfter(stalled, started, BOUND_MS * 5),
        closedAfter(dripped, started, BOUND_MS * 5),
      ];
      // Meanwhile another client is served, request after request.
      const other = await tlsClient(certs, s.port);
      let served = 0;
      while (Date.now() - started < BOUND_MS + 1000) {
        const t = Date.now();
        assert.equal(await other.call(`set k${served} 0 0 1\r\nx\r\n`), "STORED\r\n");
        assert.ok(Date.now() - t < 1000, "an answer took a second");
        served++;
        await sleep(50);
      }
      const [a, b] = await Promise.all(ends);
      await drip;
      for (const conn of [stalled, dripped]) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      for (const [what, ms] of [["stalled", a], ["dripping", b]] as const) {
        assert.ok(ms >= BOUND_MS - 100 && ms < BOUND_MS + 3000, `${what} closed after ${ms} ms`);
      }
      assert.ok(served > 10, `only ${served} requests served meanwhile`);
      other.close();
      assert.equal(await tlsStat(certs, s.port, "ssl_handshake_errors"), before + 2);
      assert.doesNotMatch(s.output(), /handshake/i, "counted, not logged at the default level");
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});

Deno.test({
  name: "plain text or binary on the TLS port closes that connection only; logged at -v",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const s = await startOurs([...tlsArgs(certs, "-v"), "--http-port", "0"]);
    try {
      const good = await tlsClient(certs, s.port);
      assert.equal(await good.call("set k 0 0 1\r\nx\r\n"), "STORED\r\n");
      const before = await tlsStat(certs, s.port, "ssl_handshake_errors");
      for (const junk of ["get k\r\n", "\x80\x00\x00\x00", "GET / HTTP/1.1\r\n\r\n"]) {
        const c = await RawClient.connect(s.port);
        await c.send(junk);
        assert.ok(await c.closedByPeer(5000), `${JSON.stringify(junk)} closed`);
        c.close();
      }
      assert.equal(await good.call("get k\r\n", "END\r\n"), "VALUE k 0 1\r\nx\r\nEND\r\n");
      assert.equal(await tlsStat(certs, s.port, "ssl_handshake_errors"), before + 3);
      good.close();
      await s.waitForOutput(/plain text on a TLS port[\s\S]*plain text[\s\S]*plain text/);
      assert.match(
        s.output(),
        /TLS handshake with "127\.0\.0\.1:\d+" failed: "plain text on a TLS port"/,
      );
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});

Deno.test({
  name: "-c and the idle timeout hold for TLS connections",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const s = await startOurs([
      ...tlsArgs(certs, "-c", "3", "-o", "idle_timeout=1"),
      "--http-port",
      "0",
    ]);
    try {
      const open: RawClient[] = [];
      let refused = "";
      for (let i = 0; i < 5 && refused === ""; i++) {
        const c = await tlsClient(certs, s.port);
        const answer = await c.call("version\r\n");
        if (answer.startsWith("VERSION")) open.push(c);
        else refused = answer;
      }
      assert.equal(open.length, 3);
      assert.equal(refused, "ERROR Too many open connections\r\n");
      // Idle ones are closed (the timeout is in whole seconds of the server's clock).
      for (const c of open) assert.ok(await c.closedByPeer(5000), "an idle TLS client closed");
      assert.ok(await tlsStat(certs, s.port, "idle_kicks") >= 3);
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});

Deno.test({
  name:
    "a TLS client that does not read 900 MB of answers holds bounded memory, then gets every byte",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const s = await startOurs([...tlsArgs(certs), "--http-port", "0"]);
    const BIG = 500_000;
    try {
      const c = await tlsClient(certs, s.port);
      assert.equal(await c.call(`set big 0 0 ${BIG}\r\n${"x".repeat(BIG)}\r\n`), "STORED\r\n");
      const gets = 1800;
      const answer = `VALUE big 0 ${BIG}\r\n`.length + BIG + 2 + "END\r\n".length;
      const watch = new RssWatch(s.process.pid);
      const base = watch.peak;
      await c.send("get big\r\n".repeat(gets));
      await sleep(1500);
      const during = watch.sample();
      let total = 0;
      const buf = new Uint8Array(1 << 20);
      while (total < gets * answer) {
        const n = await c.conn.read(buf);
        if (n === null) break;
        total += n;
      }
      watch.stop();
      c.close();
      assert.equal(total, gets * answer);
      console.log(
        `ours over TLS: ${base.toFixed(0)} MiB before, ${during.toFixed(0)} while unread`,
      );
      assert.ok(watch.peak - base < 150, `peak ${watch.peak} MiB from ${base}`);
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});

Deno.test({
  name: "a TLS client that sends without reading its answers is held back by TCP, not buffered",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const s = await startOurs([...tlsArgs(certs), "--http-port", "0"]);
    try {
      const c = await tlsClient(certs, s.port);
      const BIG = 100_000;
      assert.equal(await c.call(`set big 0 0 ${BIG}\r\n${"x".repeat(BIG)}\r\n`), "STORED\r\n");
      const watch = new RssWatch(s.process.pid);
      const base = watch.peak;
      // 1 MiB of gets at a time, never reading an answer, for as long as the server takes them.
      const chunk = new TextEncoder().encode("get big\r\n".repeat(116_508));
      let sent = 0;
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && sent < 2048 * chunk.length) {
        const wrote = await Promise.race([c.send(chunk).then(() => true), sleep(500)]);
        if (wrote !== true) break; // the server stopped reading: TCP holds the client back
        sent += chunk.length;
      }
      const held = watch.stop() - base;
      c.close();
      console.log(
        `ours over TLS: ${(sent / 2 ** 20).toFixed(0)} MiB taken, ${held.toFixed(0)} MiB held`,
      );
      // A server that went on reading (decrypting into memory) takes hundreds of MiB in 3 s.
      assert.ok(sent < 64 * 2 ** 20, `the server took ${sent} bytes without answering them`);
      assert.ok(held < 100, `peak ${held.toFixed(0)} MiB over the start`);
      assert.equal(await tlsStat(certs, s.port, "curr_connections") >= 1, true);
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});

Deno.test({
  name: "answers pipelined before quit all reach a TLS client that reads them only later",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const s = await startOurs([...tlsArgs(certs), "--http-port", "0"]);
    const BIG = 100_000;
    try {
      const c = await tlsClient(certs, s.port);
      assert.equal(await c.call(`set big 0 0 ${BIG}\r\n${"x".repeat(BIG)}\r\n`), "STORED\r\n");
      const gets = 50;
      const answer = `VALUE big 0 ${BIG}\r\n`.length + BIG + 2 + "END\r\n".length;
      await c.send("get big\r\n".repeat(gets) + "quit\r\n");
      // The server answers, reads quit and closes while most answers still wait to be sent.
      await sleep(800);
      let total = 0;
      const buf = new Uint8Array(1 << 20);
      try {
        for (let n; (n = await c.conn.read(buf)) !== null;) total += n;
      } catch (err) {
        // The server closes without close_notify, as memcached does.
        if (!(err instanceof Deno.errors.UnexpectedEof)) throw err;
      }
      c.close();
      assert.equal(total, gets * answer);
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});
