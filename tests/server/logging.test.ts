/** Logging: -v connections and errors, -vv every command and HTTP request, --log-format json. */
import assert from "node:assert/strict";
import { BinaryClient } from "../helpers/binary.ts";
import { RawClient } from "../helpers/client.ts";
import { call, httpReady } from "../helpers/http.ts";
import { type Child, startOurs } from "../helpers/server.ts";

async function withServer(args: string[], body: (s: Child) => Promise<void>): Promise<string> {
  const server = await startOurs(args);
  try {
    await server.waitForOutput(/listening/);
    await body(server);
    // Let the last log lines reach the pipe.
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    await server.stop();
  }
  return server.output();
}

async function textCommands(s: Child) {
  const c = await RawClient.connect(s.port);
  await c.call("set greeting 0 0 11\r\nhello world\r\nget greeting\r\n", "END\r\n");
  c.close();
}

Deno.test("-vv logs every command and answer as memcached's `<id` and `>id` lines, never a value", async () => {
  const out = await withServer(["-vv"], async (s) => {
    await textCommands(s);
    const c = await RawClient.connect(s.port);
    await c.call("delete nothing\r\nmg greeting v\r\nbogus\r\n", "ERROR\r\n");
    c.close();
    const b = await BinaryClient.connect(s.port);
    await b.call(1, { opcode: 0x00, key: "greeting" });
    b.close();
  });
  assert.match(out, /<\d+ set greeting 0 0 11\n/);
  assert.match(out, /<\d+ get greeting\n/);
  assert.match(out, /<\d+ bin get greeting\n/);
  // memcached's answer lines: one-line answers as they are, a retrieval as its keys and END.
  assert.match(out, />(\d+) STORED\n.*<\1 get greeting\n.*>\1 sending key greeting\n.*>\1 END\n/s);
  assert.match(out, />(\d+) NOT_FOUND\n.*<\1 mg greeting v\n.*<\1 bogus\n.*>\1 ERROR\n/s);
  assert.doesNotMatch(out, />\d+ (VA|HD)/, "meta answers are not logged, as memcached's are not");
  assert.doesNotMatch(out, /hello world/);
});

Deno.test("-vv logs an event stream when it starts, without waiting for its end", async () => {
  const out = await withServer(["-vv"], async (s) => {
    const res = await fetch(`http://127.0.0.1:${s.httpPort}/stats/stream`, {
      signal: AbortSignal.timeout(3000),
    });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /^event: stats\n/);
    await reader.cancel();
  });
  assert.match(out, /GET \/stats\/stream 200 stream [\d.]+ms/);
});

Deno.test("-v logs connections but not commands; no -v logs neither", async () => {
  const verbose = await withServer(["-v"], textCommands);
  assert.match(verbose, /connection \d+ from "?tcp:127\.0\.0\.1:\d+/);
  assert.match(verbose, /connection \d+ closed/);
  assert.doesNotMatch(verbose, /<\d+ get/);
  const quiet = await withServer([], textCommands);
  assert.doesNotMatch(quiet, /connection \d+/);
});

Deno.test("-vv logs HTTP requests: method, path, status, bytes, ms; never the token", async () => {
  const dir = await Deno.makeTempDir();
  const tokenFile = `${dir}/token`;
  await Deno.writeTextFile(tokenFile, "s3cret-token\n");
  const out = await withServer(["-vv", "--http-token-file", tokenFile], async (s) => {
    const base = await httpReady(`http://127.0.0.1:${s.httpPort}`);
    const auth = { authorization: "Bearer s3cret-token" };
    await call("PUT", `${base}/keys/k?ttl=60`, { body: "hello world", headers: auth });
    assert.equal((await call("GET", `${base}/keys/k`, { headers: auth })).status, 200);
    assert.equal((await call("GET", `${base}/stats`)).status, 401);
  });
  await Deno.remove(dir, { recursive: true });
  assert.match(out, /PUT \/keys\/k 204 0 [\d.]+ms/);
  assert.match(out, /GET \/keys\/k 200 11 [\d.]+ms/);
  assert.match(out, /GET \/stats 401 \d+ [\d.]+ms/);
  assert.doesNotMatch(out, /s3cret-token/);
});

Deno.test("--log-format json writes one JSON object per line", async () => {
  const out = await withServer(["-vv", "--log-format", "json"], textCommands);
  const records = out.trim().split("\n").map((line) => JSON.parse(line));
  assert.ok(records.some((r) => /listening/.test(r.message)), out);
  assert.ok(records.some((r) => /<\d+ get greeting/.test(r.message)), out);
  for (const r of records) assert.equal(typeof r.level, "string");
});

Deno.test("-vv with -Y: the authentication data block (the password) is never logged", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/auth`, "alice:pa55word\n");
  const out = await withServer(["-vv", "-Y", `${dir}/auth`, "--http-token", "t"], async (s) => {
    const c = await RawClient.connect(s.port);
    assert.equal(await c.call("set x 0 0 14\r\nalice pa55word\r\n"), "STORED\r\n");
    assert.equal(await c.call("get x\r\n", "END\r\n"), "END\r\n");
    c.close();
  });
  await Deno.remove(dir, { recursive: true });
  assert.doesNotMatch(out, /pa55word/);
  assert.match(out, /<\d+ get x/);
});

Deno.test("--http-token on the command line warns that process lists show it", async () => {
  const out = await withServer(["--http-token", "visible-token"], () => Promise.resolve());
  assert.match(out, /--http-token shows the token in process lists/);
  assert.doesNotMatch(out, /visible-token/);
});

Deno.test("an HTTP client that leaves mid-answer is no warning without -v, a -v line with it", async () => {
  // `curl -N .../stats/stream | head -c 200` (as the README's examples run) used to log
  // `WRN connection on "tcp:127.0.0.1:8000" failed: BrokenPipe` at the default level.
  const leave = async (s: Child) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.httpPort });
    await conn.write(new TextEncoder().encode("GET /stats/stream HTTP/1.1\r\nHost: x\r\n\r\n"));
    await conn.read(new Uint8Array(256));
    conn.close();
    // The next event, a second later, finds the connection gone.
    await new Promise((r) => setTimeout(r, 1500));
  };
  const quiet = await withServer([], leave);
  assert.doesNotMatch(quiet, /WRN|ERR/, quiet);
  const verbose = await withServer(["-v"], leave);
  assert.match(
    verbose,
    /DBG .*connection on "?tcp:127\.0\.0\.1:\d+"? closed by the client/,
    verbose,
  );
});

Deno.test("the verbosity command changes what is logged while the server runs, on every thread", async () => {
  for (const threads of ["1", "2"]) {
    const out = await withServer(["-t", threads], async (s) => {
      const admin = await RawClient.connect(s.port);
      // Open before the change: its commands are traced once verbosity 2 comes, as memcached's.
      const early = await RawClient.connect(s.port);
      await early.call("get before\r\n", "END\r\n");
      assert.equal(await admin.call("verbosity 2\r\n"), "OK\r\n");
      await early.call("get during\r\n", "END\r\n");
      // New connections land on either thread at -t 2.
      for (let i = 0; i < 8; i++) {
        const c = await RawClient.connect(s.port);
        await c.call(`get during${i}\r\n`, "END\r\n");
        c.close();
      }
      assert.equal(await admin.call("verbosity 0\r\n"), "OK\r\n");
      await early.call("get after\r\n", "END\r\n");
      const c = await RawClient.connect(s.port);
      await c.call("get after2\r\n", "END\r\n");
      c.close();
      early.close();
      admin.close();
    });
    assert.doesNotMatch(out, /<\d+ get before\n/, `-t ${threads}`);
    assert.match(out, /<\d+ get during\n/, `-t ${threads}`);
    for (let i = 0; i < 8; i++) assert.match(out, new RegExp(`<\\d+ get during${i}\\n`));
    assert.match(out, /connection \d+ from/, `-t ${threads}: verbosity 2 logs connections too`);
    assert.doesNotMatch(out, /<\d+ get after/, `-t ${threads}`);
  }
});
