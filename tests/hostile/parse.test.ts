/**
 * Bad input taken as data: huge lengths, NULs in keys, encoded paths and Host headers that move
 * the key, and an HTTP door that would serve data without credentials. memcached is the reference
 * for the memcached protocols, byte for byte.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { concat, packet, setExtras } from "../helpers/binary.ts";
import { assertHealthy, RssWatch, sleep, storeSentinels } from "../helpers/hostile.ts";
import { freePort, startMemcached, startOurs } from "../helpers/server.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

const TEXT_CASES = [
  "set k 0 0 2147483647\r\nversion\r\n",
  "set k 0 0 2147483646\r\nversion\r\n",
  "set k 0 0 4294967296\r\nversion\r\nversion\r\n",
  "set k 0 0 -1\r\nversion\r\n",
  "set k\0ey 0 0 1\r\nx\r\nget k\r\nget k\0ey\r\nversion\r\n",
  "set a\0 0 0 1\r\nx\r\nversion\r\n",
  "get a b\0c d\r\nversion\r\n",
  "mg k\0 v\r\nversion\r\n",
  "\0\r\nversion\r\n",
];

async function exchange(port: number, data: string | Uint8Array, ms = 400): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    await c.send(data);
    return await c.readFor(ms);
  } finally {
    c.close();
  }
}

Deno.test("lengths past INT_MAX and NULs in text lines: memcached's answers, connection goes on", async () => {
  const ours = await startOurs();
  const real = await startMemcached();
  try {
    for (const input of TEXT_CASES) {
      const got = await exchange(ours.port, input);
      if (real !== null) {
        assert.equal(got, await exchange(real.port, input), JSON.stringify(input));
      }
      assert.match(got, /VERSION 1\.6\.18\r\n$/, JSON.stringify(input));
    }
  } finally {
    await ours.stop();
    await real?.stop();
  }
});

/** Requests whose body length no request can have, each followed by a VERSION. */
const HUGE_BODIES = [
  packet({ opcode: 0x01, key: "k", extras: setExtras(0, 0), bodyLength: 0xffffffff }),
  packet({ opcode: 0x11, key: "k", extras: setExtras(0, 0), bodyLength: 0xffffffff }),
  packet({ opcode: 0x0e, key: "k", bodyLength: 0xffffffff }),
  packet({ opcode: 0xff, bodyLength: 0xffffffff }),
  packet({ opcode: 0xff, bodyLength: 0x80000000 }),
];
const VERSION_PACKET = packet({ opcode: 0x0b });

Deno.test("binary body length 0xffffffff: memcached's error, then the next request answered", async () => {
  const ours = await startOurs();
  const real = await startMemcached();
  try {
    await storeSentinels(ours.port);
    const watch = new RssWatch(ours.process.pid);
    const base = watch.peak;
    // A get whose body length disagrees with its key: both answer "Invalid arguments" and close.
    const get = packet({ opcode: 0x00, key: "k", bodyLength: 0xffffffff });
    const ourGet = await exchange(ours.port, get);
    if (real !== null) assert.equal(ourGet, await exchange(real.port, get));
    // memcached keeps the length to skip in a signed int: past 2 GiB it skips nothing and reads
    // the next header at once (a set: "Too large.", an unknown opcode: "Unknown command").
    for (const [i, huge] of HUGE_BODIES.entries()) {
      const got = await exchange(ours.port, concat(huge, VERSION_PACKET));
      if (real !== null) {
        assert.equal(got, await exchange(real.port, concat(huge, VERSION_PACKET)), `case ${i}`);
      }
      assert.ok(
        got.endsWith("\x81\x0b" + "\0".repeat(9) + "\x06" + "\0".repeat(12) + "1.6.18"),
        `case ${i}: ${JSON.stringify(got)}`,
      );
    }
    // What follows such a header is read as requests: 64 MB of zeros is a bad magic byte, closed
    // at once; the body is never buffered.
    const set = HUGE_BODIES[0];
    const c = await Deno.connect({ hostname: "127.0.0.1", port: ours.port });
    await c.write(set);
    const head = new Uint8Array(24);
    assert.equal(await c.read(head), 24);
    assert.equal(head[7], 0x03, "E2BIG");
    const junk = new Uint8Array(1 << 20);
    try {
      for (let i = 0; i < 64; i++) await c.write(junk);
    } catch { /* closed by the server */ }
    c.close();
    await sleep(200);
    watch.stop();
    assert.ok(watch.peak - base < 100, `peak ${watch.peak} MiB from ${base}`);
    await assertHealthy(ours, "after the 4 GB body length");
  } finally {
    await ours.stop();
    await real?.stop();
  }
});

Deno.test("HTTP: the key comes from the routed path, never from Host", async () => {
  const server = await startOurs();
  try {
    const base = `http://127.0.0.1:${server.httpPort}`;
    const c = await RawClient.connect(server.port);
    assert.equal(
      await c.call("set s 0 0 4\r\nkeep\r\nset secret 0 0 3\r\nshh\r\n"),
      "STORED\r\n" + "STORED\r\n",
    );
    // `/%6Beys/x` is routed as /keys/x: it must write and read x, not s.
    const put = await fetch(`${base}/%6Beys/x`, { method: "PUT", body: "new" });
    assert.equal(put.status, 204);
    assert.equal(await (await fetch(`${base}/%6Beys/x`)).text(), "new");
    assert.equal(
      await c.call("get s x\r\n", "END\r\n"),
      "VALUE s 0 4\r\nkeep\r\nVALUE x 0 3\r\nnew\r\nEND\r\n",
    );
    // A Host header with a path in it must not turn /health into a read of `secret`.
    const raw = await RawClient.connect(server.httpPort);
    await raw.send("GET /health HTTP/1.1\r\nHost: x/keys/secret?\r\nConnection: close\r\n\r\n");
    const answer = await raw.readUntil((t) => t.includes("}"));
    raw.close();
    assert.match(answer, /^HTTP\/1.1 400/);
    assert.doesNotMatch(answer, /shh/);
    c.close();
  } finally {
    await server.stop();
  }
});

Deno.test("-S or -Y: the HTTP door needs --http-token, or --http-insecure (warned)", async () => {
  const file = await Deno.makeTempFile();
  await Deno.writeTextFile(file, "user:pass\n");
  const run = async (args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-read", "--allow-env", MAIN, "-p", "0", ...args],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => out.kill("SIGTERM"), 1500);
    const result = await out.output();
    clearTimeout(timer);
    const dec = new TextDecoder();
    return { code: result.code, text: dec.decode(result.stdout) + dec.decode(result.stderr) };
  };
  try {
    const httpOff = await run(["-Y", file, "--http-port", "0"]);
    assert.equal(httpOff.code, 0, "with the HTTP door off, -Y alone starts");
    const noToken = await run(["-Y", file, "--http-port", "1"]);
    assert.equal(noToken.code, 64);
    assert.match(noToken.text, /--http-token/);
    const sasl = await run(["-S", "-o", `sasl_password_file=${file}`, "--http-port", "1"]);
    assert.equal(sasl.code, 64);
    const insecure = await run(["-Y", file, "--http-port", String(freePort()), "--http-insecure"]);
    assert.equal(insecure.code, 0);
    assert.match(
      insecure.text,
      /--http-insecure: the HTTP API serves every key without credentials/,
    );
  } finally {
    await Deno.remove(file);
  }
});
