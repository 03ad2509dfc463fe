/**
 * Persistence at -t 2: thread 0 restores the one store before the others map it and saves it
 * last; every thread logs to the one log and reports the same figures.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { startOurs } from "../helpers/server.ts";
import { clientsOnEveryThread } from "../helpers/threads.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const CLIENTS = 8;

Deno.test("-t 2 -e: what every thread stored survives a restart", opts, async () => {
  const dir = await Deno.makeTempDir();
  const args = ["-t", "2", "-e", `${dir}/cache`];
  const keys = Array.from({ length: CLIENTS }, (_, i) => `thread-key-${i}`);
  const first = await startOurs(args);
  await first.waitForOutput(/listening/);
  try {
    // Many connections, so that both threads store (the kernel spreads them).
    const clients = await Promise.all(keys.map(() => RawClient.connect(first.port)));
    const answers = await Promise.all(
      clients.map((c, i) => c.call(`set ${keys[i]} ${i} 0 2\r\nv${i}\r\n`)),
    );
    assert.deepEqual(answers, keys.map(() => "STORED\r\n"));
    for (const c of clients) c.close();
  } finally {
    assert.equal((await first.stop()).code, 0, first.output());
  }
  const second = await startOurs(args);
  try {
    const mc = await RawClient.connect(second.port);
    const got = await mc.call(`get ${keys.join(" ")}\r\n`, "END\r\n");
    assert.equal(got, keys.map((k, i) => `VALUE ${k} ${i} 2\r\nv${i}\r\n`).join("") + "END\r\n");
    mc.close();
  } finally {
    await second.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("-t 2 --persist-log: every thread reports the process's persistence", opts, async () => {
  const dir = await Deno.makeTempDir();
  const server = await startOurs(["-t", "2", "--persist-log", dir, "--fsync", "always"]);
  try {
    const clients = await clientsOnEveryThread(server.port, CLIENTS, 2);
    for (const [i, c] of clients.entries()) {
      assert.equal(await c.call(`set p${i} 0 0 1\r\nx\r\n`), "STORED\r\n");
    }
    const written = new Set<string>();
    for (const c of clients) {
      const rows = await c.call("stats persistence\r\n", "END\r\n");
      assert.match(rows, /STAT persist_mode log\r\nSTAT persist_fsync always\r\n/);
      written.add(/STAT persist_bytes_written (\d+)/.exec(rows)![1]);
    }
    assert.equal(written.size, 1, `one figure, whichever thread answers: ${[...written]}`);
    assert.ok(Number([...written][0]) > 0);
    for (const c of clients) c.close();
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
