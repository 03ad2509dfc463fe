/**
 * -t 2: what the other doors and background jobs show is the whole process's whichever thread
 * answers, as at -t 1: key dumps (lru_crawler metadump, stats cachedump, the HTTP listing and
 * stream), flush_all with a delay, the idle timeout, and the dashboard's stats stream.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import {
  clientsOnEveryThread,
  closeAll,
  httpOnce,
  onThread,
  statsOf,
  withThreads,
} from "../helpers/threads.ts";

const CLIENTS = 6;
const PER_CLIENT = 50;

/** Each client stores PER_CLIENT keys of its own, all of one size; the keys, sorted. */
async function storeKeys(clients: RawClient[]): Promise<string[]> {
  const keys: string[] = [];
  await Promise.all(clients.map(async (c, i) => {
    for (let n = 0; n < PER_CLIENT; n++) {
      const key = `c${i}:k${String(n).padStart(3, "0")}`;
      keys.push(key);
      assert.equal(
        await c.call(`set ${key} 0 0 4\r\nv${String(n).padStart(3, "0")}\r\n`),
        "STORED\r\n",
      );
    }
  }));
  return keys.sort();
}

Deno.test("-t 2: every key dump lists the keys stored on both threads, from either", async () => {
  await withThreads([], async ({ port, httpPort }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS);
    const keys = await storeKeys(clients);
    const [zero] = await onThread(clients, 0);
    const [one] = await onThread(clients, 1);
    let cls = "";
    for (const c of [zero, one]) {
      const meta = await c.call("lru_crawler metadump all\r\n", "END\r\n");
      const lines = meta.split("\n").filter((l) => l.startsWith("key="));
      assert.deepEqual(
        lines.map((l) => decodeURIComponent(l.slice(4, l.indexOf(" ")))).sort(),
        keys,
      );
      cls = /cls=(\d+)/.exec(lines[0])![1];
      const dump = await c.call(`stats cachedump ${cls} 0\r\n`, "END\r\n");
      const items = [...dump.matchAll(/^ITEM (\S+) \[4 b; 0 s\]\r$/gm)].map((m) => m[1]);
      assert.deepEqual(items.sort(), keys);
    }
    for (let i = 0; i < 4; i++) {
      const stream = await httpOnce(httpPort, "/keys?stream=ndjson");
      assert.equal(stream.status, 200);
      const listed = stream.body.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).key);
      assert.deepEqual(listed.sort(), keys);
      const page = await httpOnce(httpPort, "/keys?limit=1000");
      assert.deepEqual(JSON.parse(page.body).keys, keys);
    }
    closeAll(clients);
  });
});

Deno.test("-t 2: flush_all with a delay on one thread empties the store for both", async () => {
  await withThreads(["--enable-debugtime"], async ({ port }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS);
    const keys = await storeKeys(clients);
    const [zero] = await onThread(clients, 0);
    const [one] = await onThread(clients, 1);
    assert.equal(await zero.call("flush_all 10\r\n"), "OK\r\n");
    const some = keys.filter((_, i) => i % 25 === 0);
    for (const c of [zero, one]) {
      const got = await c.call(`get ${some.join(" ")}\r\n`, "END\r\n");
      assert.equal(got.split("VALUE ").length - 1, some.length, "not yet");
    }
    assert.equal(await one.call("debugtime 11\r\n"), "OK\r\n");
    for (const c of [zero, one]) {
      assert.equal(await c.call(`get ${some.join(" ")}\r\n`, "END\r\n"), "END\r\n");
    }
    closeAll(clients);
  });
});

Deno.test("-t 2: the idle timeout closes idle clients of both threads, counted once each", async () => {
  await withThreads(["-o", "idle_timeout=1"], async ({ port }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS);
    for (const c of clients) assert.ok(await c.closedByPeer(15_000), "an idle client is closed");
    const fresh = await RawClient.connect(port);
    const stats = await statsOf(fresh);
    assert.equal(stats.get("idle_kicks"), String(CLIENTS));
    assert.equal(stats.get("curr_connections"), "1");
    fresh.close();
  });
});

/** The first `stats` event of GET /stats/stream on a connection of its own. */
async function firstStreamEvent(httpPort: number): Promise<Record<string, number | string>> {
  const c = await RawClient.connect(httpPort);
  try {
    await c.send(`GET /stats/stream HTTP/1.1\r\nHost: 127.0.0.1:${httpPort}\r\n\r\n`);
    const text = await c.readUntil((t) => /event: stats\ndata: .*\n/.test(t));
    return JSON.parse(/event: stats\ndata: (.*)\n/.exec(text)![1]).stats;
  } finally {
    c.close();
  }
}

Deno.test("-t 2: the dashboard's stats stream shows the whole process on either thread", async () => {
  await withThreads([], async ({ port, httpPort }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS);
    await storeKeys(clients);
    for (let i = 0; i < 4; i++) {
      const stats = await firstStreamEvent(httpPort);
      assert.equal(stats.curr_connections, CLIENTS);
      assert.equal(stats.read_buf_count, CLIENTS);
      assert.equal(stats.curr_items, CLIENTS * PER_CLIENT);
      assert.equal(stats.cmd_set, CLIENTS * PER_CLIENT);
      assert.equal(stats.threads, 2);
    }
    closeAll(clients);
  });
});

Deno.test("-t 2: watchers on either thread and over HTTP see every thread's fetches once", async () => {
  await withThreads([], async ({ port, httpPort }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS);
    const [zero] = await onThread(clients, 0);
    const [one] = await onThread(clients, 1);
    const fetchers = clients.filter((c) => c !== zero && c !== one);
    for (const w of [zero, one]) assert.equal(await w.call("watch fetchers\r\n"), "OK\r\n");
    const http = await RawClient.connect(httpPort);
    await http.send(
      `GET /watch?events=fetchers HTTP/1.1\r\nHost: 127.0.0.1:${httpPort}\r\n\r\n`,
    );
    assert.match(await http.readUntil((t) => t.includes("event: ready")), /event: ready/);
    await Promise.all(
      fetchers.map(async (c, i) =>
        assert.equal(await c.call(`get w${i}\r\n`, "END\r\n"), "END\r\n")
      ),
    );
    const expected = fetchers.map((_, i) => `w${i}`).sort();
    const keysIn = (text: string) =>
      [...text.matchAll(/type=item_get key=(\S+) /g)].map((m) => m[1]);
    const enough = (t: string) => keysIn(t).length >= expected.length;
    for (const w of [zero, one, http]) {
      const seen = keysIn(await w.readUntil(enough));
      assert.deepEqual(seen.sort(), expected);
    }
    http.close();
    closeAll(clients);
  });
});
