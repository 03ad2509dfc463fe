/** Start-up failures: one line naming the door, the address and the reason; memcached's exit codes. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { freePort, runMain, startOurs } from "../helpers/server.ts";

/** The lines a failed start printed (Deno's task and download lines cannot appear here). */
function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

async function failsToListen(args: string[], door: string, address: string, reason: RegExp) {
  const run = await runMain(args);
  assert.equal(run.code, 71, run.text);
  const printed = lines(run.text);
  assert.equal(printed.length, 1, run.text);
  assert.ok(printed[0].includes(`failed to listen: ${door} on ${address}: `), run.text);
  assert.match(printed[0], reason);
}

Deno.test("a memcached port in use: one line, exit 71", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  try {
    await failsToListen(
      ["-p", String(port), "--http-port", "0"],
      "memcached TCP",
      `127.0.0.1:${port}`,
      /in use/i,
    );
  } finally {
    holder.close();
  }
});

Deno.test("an HTTP port in use: one line naming the HTTP door, exit 71", async () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  try {
    await failsToListen(
      ["-p", String(freePort()), "--http-port", String(port)],
      "HTTP",
      `127.0.0.1:${port}`,
      /in use/i,
    );
  } finally {
    holder.close();
  }
});

Deno.test("a bad address and a missing socket directory: one line, exit 71", async () => {
  const port = freePort();
  await failsToListen(
    ["-l", "999.1.1.1", "-p", String(port), "--http-port", "0"],
    "memcached TCP",
    `999.1.1.1:${port}`,
    /\S/,
  );
  await failsToListen(
    ["-s", "/nonexistent-dir/memcached.sock", "--http-port", "0"],
    "memcached unix socket",
    "/nonexistent-dir/memcached.sock",
    /No such file or directory|not found/i,
  );
});

Deno.test("-s refuses a path holding a regular file and leaves the file intact", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/precious.txt`;
  await Deno.writeTextFile(path, "not a socket\n");
  try {
    await failsToListen(
      ["-s", path, "--http-port", "0"],
      "memcached unix socket",
      path,
      /not a socket/,
    );
    assert.equal(await Deno.readTextFile(path), "not a socket\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("-s replaces a stale socket left by an earlier run", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/memcached.sock`;
  // A process that exits without unlinking its socket leaves it behind (Deno's close removes it).
  const bind = `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`;
  await new Deno.Command("python3", { args: ["-c", bind] }).output();
  assert.ok(Deno.lstatSync(path).isSocket);
  const server = await startOurs(["-s", path, "-p", String(freePort())]);
  try {
    // startOurs waits for the TCP port, which accepts a moment before the socket is replaced.
    let c: RawClient | null = null;
    for (let i = 0; i < 100 && c === null; i++) {
      c = await RawClient.connectUnix(path).catch(() => null);
      if (c === null) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(c !== null, "the server listens on the replaced socket");
    assert.equal(await c.call("version\r\n"), "VERSION 1.6.18\r\n");
    c.close();
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage errors are one line and exit 64", async () => {
  for (const args of [["-m", "lots"], ["--no-such-flag"], ["--log-format", "xml"]]) {
    const run = await runMain(args);
    assert.equal(run.code, 64, run.text);
    assert.equal(lines(run.text).length, 1, run.text);
  }
});
