/** Every command-line form the README and -h show starts the server with the flags given. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { freePort } from "../helpers/server.ts";
import { USAGE } from "../../src/usage.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const RUN = ["run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "main.ts"];

/** Starts `deno <args> FLAGS` in the repository, checks it serves, stops it with `shutdown`. */
async function startsWith(prefix: string[], dashes: boolean) {
  const port = freePort();
  const flags = ["-p", String(port), "--http-port", "0", "-m", "16", "-c", "64", "-A"];
  const child = new Deno.Command(Deno.execPath(), {
    args: [...prefix, ...(dashes ? ["--"] : []), ...flags],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  let exited = false;
  child.status.then(() => (exited = true));
  let client: RawClient | null = null;
  for (let i = 0; i < 300 && client === null && !exited; i++) {
    try {
      client = await RawClient.connect(port);
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    assert.ok(client, `nothing listened on ${port}`);
    const settings = await client.call("stats settings\r\n", "END\r\n");
    assert.match(settings, /STAT maxbytes 16777216\r\n/);
    assert.match(settings, /STAT maxconns 64\r\n/);
    await client.send("shutdown\r\n");
  } finally {
    client?.close();
  }
  const done = await output;
  const text = new TextDecoder().decode(done.stderr) + new TextDecoder().decode(done.stdout);
  assert.equal(done.code, 0, text);
  assert.match(text, /listening: memcached 127\.0\.0\.1:\d+/);
}

Deno.test("-h shows the three forms that the tests below run", () => {
  assert.match(USAGE, /deno task start \[options\]/);
  assert.match(USAGE, /deno task start -- \[options\]/);
  assert.match(USAGE, /deno run .*main\.ts \[options\]/);
});

Deno.test("deno task start -- FLAGS (deno task passes the -- on)", async () => {
  await startsWith(["task", "start"], true);
});

Deno.test("deno task start FLAGS", async () => {
  await startsWith(["task", "start"], false);
});

Deno.test("deno run ... main.ts FLAGS, and with a leading --", async () => {
  await startsWith(RUN, false);
  await startsWith(RUN, true);
});

Deno.test("deno run main.ts FLAGS without permissions names the flag it needs", async () => {
  // It used to say "-c 1024 needs 1088 free descriptors but only 0 can be opened (ulimit -n)".
  const done = await new Deno.Command(Deno.execPath(), {
    args: ["run", "main.ts", "-p", String(freePort()), "--http-port", "0"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(done.stderr);
  assert.equal(done.code, 71, text);
  assert.match(text, /--allow-read/);
  assert.match(text, /deno task start/);
  assert.doesNotMatch(text, /ulimit/);
});
