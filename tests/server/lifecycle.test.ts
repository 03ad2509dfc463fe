/** The process and its connections: flags, limits, signals, sockets, misbehaving clients. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { freePort, RUN_MAIN, runMain, startOurs } from "../helpers/server.ts";

Deno.test("SIGTERM and SIGINT stop the server cleanly with exit code 0", async () => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    const server = await startOurs();
    const c = await RawClient.connect(server.port);
    assert.equal(await c.call("set a 0 0 1\r\nx\r\n"), "STORED\r\n");
    const status = await server.stop(signal);
    assert.equal(status.code, 0, server.output());
    assert.ok(await c.closedByPeer());
    c.close();
    assert.match(server.output(), /stopped/);
  }
});

Deno.test("start-up log names both addresses and the memory limit; ignored flags are said", async () => {
  const server = await startOurs(["-t", "4", "-U", "0", "-u", "nobody", "-m", "16"]);
  try {
    const out = await server.waitForOutput(/listening/);
    assert.match(out, new RegExp(`127\\.0\\.0\\.1:${server.port}`));
    assert.match(out, new RegExp(`127\\.0\\.0\\.1:${server.httpPort}`));
    assert.match(out, /memory limit 16 MB/);
    assert.match(out, /4 threads/);
    assert.doesNotMatch(out, /ignoring .*-t/);
    assert.match(out, /ignoring .*-u/);
  } finally {
    await server.stop();
  }
});

Deno.test("unknown or malformed flags exit non-zero with a message; -h and -V exit 0", async () => {
  const bad = await runMain(["--no-such-flag"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.text, /no-such-flag/);
  const badNumber = await runMain(["-m", "lots"]);
  assert.notEqual(badNumber.code, 0);
  assert.match(badNumber.text, /-m/);
  const help = await runMain(["-h"]);
  assert.equal(help.code, 0);
  assert.match(help.text, /--http-port/);
  const version = await runMain(["-V"]);
  assert.equal(version.code, 0);
  assert.match(version.text, /1\.6\.18/);
});

Deno.test("-c limits connections: the one over the limit gets memcached's error", async () => {
  const server = await startOurs(["-c", "2"]);
  try {
    // Let the start-up probe connection finish closing first.
    await new Promise((r) => setTimeout(r, 300));
    const a = await RawClient.connect(server.port);
    const b = await RawClient.connect(server.port);
    assert.equal(await a.call("version\r\n"), "VERSION 1.6.18\r\n");
    assert.equal(await b.call("version\r\n"), "VERSION 1.6.18\r\n");
    const c = await RawClient.connect(server.port);
    assert.equal(
      await c.readUntil((t) => t.endsWith("\r\n")),
      "ERROR Too many open connections\r\n",
    );
    assert.ok(await c.closedByPeer());
    c.close();
    b.close();
    // A slot frees up once a client leaves.
    let d: RawClient | null = null;
    for (let i = 0; i < 50; i++) {
      d = await RawClient.connect(server.port);
      const r = await d.call("version\r\n");
      if (r === "VERSION 1.6.18\r\n") break;
      d.close();
      d = null;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(d !== null);
    d.close();
    const stats = await a.call("stats\r\n", "END\r\n");
    assert.match(stats, /STAT rejected_connections [1-9]/);
    a.close();
  } finally {
    await server.stop();
  }
});

Deno.test("-o idle_timeout closes connections that say nothing", async () => {
  const server = await startOurs(["-o", "idle_timeout=1"]);
  try {
    const c = await RawClient.connect(server.port);
    assert.equal(await c.call("version\r\n"), "VERSION 1.6.18\r\n");
    assert.ok(await c.closedByPeer(5000));
    c.close();
  } finally {
    await server.stop();
  }
});

Deno.test("-s serves a unix socket, and TCP only with -p", async () => {
  const path = `${await Deno.makeTempDir()}/memcached.sock`;
  const httpPort = freePort();
  const server = await startOurs(["-s", path, "-p", "0", "--http-port", String(httpPort)]);
  try {
    const c = await RawClient.connectUnix(path);
    assert.equal(
      await c.call("set u 0 0 1\r\nx\r\nget u\r\n", "END\r\n"),
      "STORED\r\nVALUE u 0 1\r\nx\r\nEND\r\n",
    );
    const conns = await c.call("stats conns\r\n", "END\r\n");
    assert.match(conns, /:listen_addr unix:/);
    c.close();
    const mode = Deno.statSync(path).mode! & 0o777;
    assert.equal(mode, 0o700);
  } finally {
    await server.stop();
  }
  assert.throws(() => Deno.statSync(path));
});

Deno.test("-p 0 turns TCP off and --http-port 0 turns HTTP off", async () => {
  const httpPort = freePort();
  const noTcp = await startOurs(["-p", "0", "--http-port", String(httpPort)]);
  try {
    const health = await fetch(`http://127.0.0.1:${httpPort}/health`);
    assert.equal(health.status, 200);
    await health.body?.cancel();
    assert.match(await noTcp.waitForOutput(/memcached off/), /memcached off/);
  } finally {
    await noTcp.stop();
  }
  const port = freePort();
  const noHttp = await startOurs(["-p", String(port), "--http-port", "0"]);
  try {
    assert.match(await noHttp.waitForOutput(/HTTP off/), /HTTP off/);
    const c = await RawClient.connect(port);
    assert.equal(await c.call("version\r\n"), "VERSION 1.6.18\r\n");
    c.close();
  } finally {
    await noHttp.stop();
  }
});

Deno.test("a line over 2048 bytes without a newline closes the connection; a long get does not", async () => {
  const server = await startOurs();
  try {
    const c = await RawClient.connect(server.port);
    await c.send("x".repeat(5000));
    assert.ok(await c.closedByPeer());
    c.close();
    const g = await RawClient.connect(server.port);
    await g.call("set k1 0 0 1\r\nx\r\n");
    const keys = Array.from({ length: 1000 }, (_, i) => `k${i}`).join(" ");
    await g.send("get " + keys.slice(0, 2500));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(
      await g.call(keys.slice(2500) + "\r\n", "END\r\n"),
      "VALUE k1 0 1\r\nx\r\nEND\r\n",
    );
    g.close();
  } finally {
    await server.stop();
  }
});

Deno.test("a client that stops reading is not answered into unbounded memory", async () => {
  const server = await startOurs(["-m", "64"]);
  try {
    const c = await RawClient.connect(server.port);
    const value = "v".repeat(100000);
    await c.call(`set big 0 0 ${value.length}\r\n${value}\r\n`);
    // Ask for ~2 GB of answers without reading any of them.
    const request = new TextEncoder().encode("get big\r\n".repeat(1000));
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) writes.push(c.send(request).catch(() => {}));
    await new Promise((r) => setTimeout(r, 1500));
    const other = await RawClient.connect(server.port);
    const stats = await other.call("stats\r\n", "END\r\n");
    const rss = Number(/STAT rss_bytes (\d+)/.exec(stats)![1]);
    assert.ok(rss < 1024 * 1024 * 1024, `rss ${rss}`);
    assert.equal(await other.call("version\r\n"), "VERSION 1.6.18\r\n");
    other.close();
    c.close();
  } finally {
    await server.stop();
  }
});

Deno.test("the doors open together: once memcached answers, so does HTTP", async () => {
  // The HTTP app used to be built between the two binds: a client polling the memcached port
  // found HTTP closed in about a quarter of starts.
  for (let i = 0; i < 15; i++) {
    const port = freePort();
    const http = freePort();
    const server = new Deno.Command(Deno.execPath(), {
      args: [...RUN_MAIN, "-p", String(port), "--http-port", String(http)],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      for (let tries = 0;; tries++) {
        try {
          (await Deno.connect({ hostname: "127.0.0.1", port })).close();
          break;
        } catch (err) {
          if (tries > 3000) throw err;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
      (await Deno.connect({ hostname: "127.0.0.1", port: http })).close();
    } finally {
      server.kill("SIGTERM");
      await server.status;
    }
  }
});
