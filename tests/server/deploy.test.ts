/** The files in deploy/ work as written: the systemd unit's command, and nutcracker in front. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { call, httpReady } from "../helpers/http.ts";
import { type Child, freePort, missing, startOurs, which } from "../helpers/server.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const UNIT = `${ROOT}deploy/deno-memcached.service`;
const NUTCRACKER_CONF = `${ROOT}deploy/nutcracker.yml`;

/** The unit's `Key=value` lines. */
function unitValue(key: string): string {
  const line = Deno.readTextFileSync(UNIT).split("\n").find((l) => l.startsWith(`${key}=`));
  assert.ok(line, `${key}= in the unit`);
  return line.slice(key.length + 1);
}

Deno.test(
  "systemd-analyze accepts the unit",
  { ignore: missing("systemd-analyze", "systemd") },
  async () => {
    const run = await new Deno.Command("systemd-analyze", { args: ["verify", UNIT] }).output();
    const text = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, text);
    assert.doesNotMatch(text, /deno-memcached\.service/);
  },
);

Deno.test("the unit's ExecStart serves (run from a checkout, on free ports)", async () => {
  const [env, deno, ...args] = unitValue("ExecStart").split(" ");
  assert.equal(env, "/usr/bin/env");
  assert.equal(deno, "deno");
  assert.equal(unitValue("WorkingDirectory"), "/opt/deno-memcached");
  const port = freePort();
  // Later flags win, so the unit's own ports are replaced by free ones.
  const child = new Deno.Command(Deno.execPath(), {
    args: [...args, "-p", String(port), "--http-port", String(freePort())],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  try {
    let client: RawClient | null = null;
    for (let i = 0; i < 300 && client === null; i++) {
      client = await RawClient.connect(port).catch(() => null);
      if (client === null) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(client, "nothing listened");
    assert.match(await client.call("stats settings\r\n", "END\r\n"), /STAT maxconns 4096\r\n/);
    client.close();
  } finally {
    child.kill("SIGTERM");
  }
  assert.equal((await output).code, 0, "SIGTERM stops it with status 0 (systemd's clean stop)");
});

/** deploy/nutcracker.yml with its listen address and servers moved onto free loopback ports. */
function nutcrackerConf(listen: number, servers: Child[]): string {
  let n = 0;
  return Deno.readTextFileSync(NUTCRACKER_CONF)
    .replace(/listen: 127\.0\.0\.1:\d+/, `listen: 127.0.0.1:${listen}`)
    .replace(/- 10\.0\.0\.\d+:11211:1/g, () => `- 127.0.0.1:${servers[n++].port}:1`);
}

Deno.test(
  "nutcracker with deploy/nutcracker.yml spreads keys over two servers",
  { ignore: missing("nutcracker", "nutcracker") },
  async () => {
    const servers = [await startOurs(), await startOurs()];
    const dir = await Deno.makeTempDir();
    const listen = freePort();
    await Deno.writeTextFile(`${dir}/nutcracker.yml`, nutcrackerConf(listen, servers));
    const proxy = new Deno.Command(which("nutcracker")!, {
      args: [
        ...["-c", `${dir}/nutcracker.yml`, "-o", `${dir}/nutcracker.log`],
        ...["-s", String(freePort()), "-a", "127.0.0.1", "-p", `${dir}/nutcracker.pid`],
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      let client: RawClient | null = null;
      for (let i = 0; i < 100 && client === null; i++) {
        client = await RawClient.connect(listen).catch(() => null);
        if (client === null) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(client, "nutcracker did not listen");
      const keys = Array.from({ length: 40 }, (_, i) => `user:${i}`);
      for (const key of keys) {
        assert.equal(await client.call(`set ${key} 0 0 2\r\nok\r\n`), "STORED\r\n");
      }
      const values = await client.call(`get ${keys.join(" ")}\r\n`, "END\r\n");
      assert.equal(values.match(/^VALUE /gm)?.length, keys.length);
      client.close();

      // Each server's HTTP door sees its own share of the keys, not the whole cache.
      const found: number[] = [];
      for (const server of servers) {
        const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
        let hits = 0;
        for (const key of keys) {
          if ((await call("GET", `${base}/keys/${encodeURIComponent(key)}`)).status === 200) hits++;
        }
        found.push(hits);
      }
      assert.equal(found[0] + found[1], keys.length);
      assert.ok(found[0] > 0 && found[1] > 0, `split ${found}`);
    } finally {
      proxy.kill("SIGTERM");
      await proxy.status;
      for (const s of servers) await s.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
