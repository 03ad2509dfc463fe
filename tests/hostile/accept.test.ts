/**
 * Accepting under attack: clients that reset before the accept completes, more clients than
 * descriptors, and more HTTP requests at once than --http-conn-limit. The listeners keep serving.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import {
  assertHealthy,
  hasPython,
  RssWatch,
  sleep,
  stat,
  storeSentinels,
} from "../helpers/hostile.ts";
import { type Child, startMemcached, startOurs } from "../helpers/server.ts";

/** Connects `count` times with SO_LINGER {1, 0} and closes at once: a reset before accept. */
async function resetStorm(port: number, count: number): Promise<void> {
  const script = `
import socket, struct, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
for _ in range(count):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        pass
    s.close()
`;
  const out = await new Deno.Command("python3", {
    args: ["-c", script, String(port), String(count)],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

Deno.test({
  name: "resets before accept stop neither door (memcached alongside)",
  ignore: !hasPython(),
  async fn() {
    const ours = await startOurs();
    const real = await startMemcached();
    try {
      await storeSentinels(ours.port);
      const watch = new RssWatch(ours.process.pid);
      for (const child of [ours, real].filter((c): c is Child => c !== null)) {
        await resetStorm(child.port, 400);
        if (child.httpPort !== 0) await resetStorm(child.httpPort, 200);
        await sleep(100);
        const c = await RawClient.connect(child.port);
        assert.equal(await c.call("version\r\n"), "VERSION 1.6.18\r\n");
        c.close();
      }
      watch.stop();
      assert.ok(watch.peak < 200, `RSS peaked at ${watch.peak} MiB`);
      await assertHealthy(ours, "after the reset storm");
    } finally {
      await ours.stop();
      await real?.stop();
    }
  },
});

Deno.test("out of descriptors: clients are refused and counted, the listeners keep serving", async () => {
  // 256 descriptors: -c 150 fits, but HTTP connections (not counted by -c) use up the rest.
  const server = await startOurs(["-c", "150"], 256);
  const open: Deno.Conn[] = [];
  try {
    await storeSentinels(server.port);
    const watch = new RssWatch(server.process.pid);
    for (let i = 0; i < 120; i++) {
      try {
        open.push(await Deno.connect({ hostname: "127.0.0.1", port: server.httpPort }));
      } catch { /* refused: fine */ }
    }
    const refused: string[] = [];
    for (let i = 0; i < 150; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      open.push(conn);
      const c = new Uint8Array(64);
      await conn.write(new TextEncoder().encode("version\r\n"));
      // A refused client whose request the server never read may see a reset instead of the line.
      const n = await Promise.race([conn.read(c), sleep(100).then(() => -1)]).catch(() => null);
      if (n === -1 || n === null) refused.push("silent");
      else if (new TextDecoder().decode(c.subarray(0, n)).startsWith("ERROR Too many")) {
        refused.push("error");
      }
    }
    assert.ok(refused.length > 0, "some connection over the descriptor budget was refused");
    console.log(
      `refused: ${refused.filter((r) => r === "error").length} with the error line, ` +
        `${refused.filter((r) => r === "silent").length} left waiting`,
    );
    for (const c of open.splice(0)) c.close();
    await sleep(300);
    watch.stop();
    assert.ok(watch.peak < 200, `RSS peaked at ${watch.peak} MiB`);
    await assertHealthy(server, "after running out of descriptors");
    assert.ok((await stat(server.port, "rejected_connections")) > 0);
  } finally {
    for (const c of open) c.close();
    await server.stop();
  }
});

Deno.test("HTTP requests beyond --http-conn-limit get 503; slow bodies time out with 408", async () => {
  const server = await startOurs(["--http-conn-limit", "4", "--http-timeout", "1500"]);
  const slow: RawClient[] = [];
  try {
    await storeSentinels(server.port);
    for (let i = 0; i < 4; i++) {
      const c = await RawClient.connect(server.httpPort);
      await c.send(`PUT /keys/slow${i} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab`);
      slow.push(c);
    }
    await sleep(200);
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/keys/sentinel1`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /--http-conn-limit/);
    const answers = await Promise.all(slow.map((c) => c.readUntil((t) => t.includes("}"), 4000)));
    for (const a of answers) assert.match(a, /^HTTP\/1.1 408/);
    await assertHealthy(server, "after the slow bodies");
  } finally {
    for (const c of slow) c.close();
    await server.stop();
  }
});
