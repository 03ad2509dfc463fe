/** memcached's -l: several addresses, by commas or repeated, each with its own port or -p's. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { freePort, NO_MEMCACHED, runMain, startMemcached, startOurs } from "../helpers/server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function call(hostname: string, port: number, line: string, end = "\r\n"): Promise<string> {
  const c = await RawClient.connect(port, hostname);
  try {
    return await c.call(line, end);
  } finally {
    c.close();
  }
}

async function inter(hostname: string, port: number): Promise<string> {
  const settings = await call(hostname, port, "stats settings\r\n", "END\r\n");
  return /STAT inter (\S+)/.exec(settings)![1];
}

Deno.test("-l a,b:port listens on each address; one store behind them", opts, async () => {
  const second = freePort();
  const server = await startOurs(["-l", `127.0.0.1,127.0.0.2:${second}`]);
  try {
    assert.equal(await call("127.0.0.1", server.port, "set k 0 0 1\r\nv\r\n"), "STORED\r\n");
    assert.equal(
      await call("127.0.0.2", second, "get k\r\n", "END\r\n"),
      "VALUE k 0 1\r\nv\r\nEND\r\n",
    );
    await assert.rejects(Deno.connect({ hostname: "127.0.0.2", port: server.port }));
    assert.equal(await inter("127.0.0.1", server.port), `127.0.0.1,127.0.0.2:${second}`);
    assert.match(
      server.output(),
      new RegExp(`memcached 127\\.0\\.0\\.1:${server.port}, 127\\.0\\.0\\.2:${second}`),
    );
  } finally {
    await server.stop();
  }
});

Deno.test("-l given twice is joined with a comma, as memcached keeps it", {
  ...opts,
  ignore: NO_MEMCACHED,
}, async () => {
  const args = ["-l", "127.0.0.1", "-l", "127.0.0.3"];
  const ours = await startOurs(args);
  const theirs = await startMemcached(args);
  try {
    for (const host of ["127.0.0.1", "127.0.0.3"]) {
      assert.equal(
        await call(host, ours.port, "version\r\n").then((v) => v.startsWith("VERSION ")),
        true,
      );
      assert.equal(
        await call(host, theirs.port, "version\r\n").then((v) => v.startsWith("VERSION ")),
        true,
      );
    }
    assert.equal(await inter("127.0.0.1", ours.port), await inter("127.0.0.1", theirs.port));
  } finally {
    await ours.stop();
    await theirs.stop();
  }
});

Deno.test("-l with a port that is not a number fails to start, naming it", opts, async () => {
  const { code, text } = await runMain(["-l", "127.0.0.1:http", "--http-port", "0"]);
  assert.equal(code, 71);
  assert.match(text, /127\.0\.0\.1:http/);
});
