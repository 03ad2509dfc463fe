/**
 * -t 2: the views of the whole process answer the same whichever thread a client lands on, as at
 * -t 1: `stats conns` and the buffer figures, hot keys, `stats detail`, and the settings a command
 * changes (verbosity, lru_crawler enable/disable, sizes_enable), watchers and their counts.
 */
import assert from "node:assert/strict";
import type { RawClient } from "../helpers/client.ts";
import {
  clientsOnEveryThread,
  closeAll,
  connectionId,
  httpOnce,
  onThread,
  statsOf,
  THREADS,
  withThreads,
} from "../helpers/threads.ts";

const CLIENTS = 8;

function localPort(c: RawClient): number {
  return (c.conn.localAddr as Deno.NetAddr).port;
}

/** `stats conns` as connection id -> field -> value. */
async function connsOf(c: RawClient): Promise<Map<number, Map<string, string>>> {
  const text = await c.call("stats conns\r\n", "END\r\n");
  const conns = new Map<number, Map<string, string>>();
  for (const m of text.matchAll(/^STAT (\d+):(\S+) (.*)\r$/gm)) {
    const id = Number(m[1]);
    if (!conns.has(id)) conns.set(id, new Map());
    conns.get(id)!.set(m[2], m[3]);
  }
  const ids = [...text.matchAll(/^STAT (\d+):addr /gm)].map((m) => Number(m[1]));
  assert.deepEqual(ids, [...ids].sort((a, b) => a - b), "listed by id");
  return conns;
}

Deno.test("-t 2: stats conns on either thread lists every thread's connections", async () => {
  await withThreads([], async ({ port }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS);
    const ids: number[] = [];
    for (const c of clients) ids.push(await connectionId(c));
    // A client that just had its answer may still be in conn_mwrite on its thread for a moment.
    const settled = (conns: Map<number, Map<string, string>>, n: number) =>
      ids.every((id, i) => i === n || conns.get(id)?.get("state") === "conn_waiting");
    for (const [n, asker] of clients.entries()) {
      let conns = await connsOf(asker);
      for (let i = 0; i < 100 && !settled(conns, n); i++) conns = await connsOf(asker);
      const listening = [...conns].filter(([, f]) => f.get("state") === "conn_listening");
      // Each thread listens on the port with a socket of its own.
      assert.equal(listening.length, THREADS);
      for (const [, f] of listening) assert.equal(f.get("addr"), `tcp:127.0.0.1:${port}`);
      const others = [...conns.keys()].filter((id) => !listening.some(([l]) => l === id));
      assert.deepEqual(others, [...ids].sort((a, b) => a - b), `clients seen by client ${n}`);
      clients.forEach((c, i) => {
        const f = conns.get(ids[i])!;
        assert.equal(f.get("addr"), `tcp:127.0.0.1:${localPort(c)}`);
        assert.equal(f.get("listen_addr"), `tcp:127.0.0.1:${port}`);
        assert.equal(f.get("state"), i === n ? "conn_parse_cmd" : "conn_waiting");
        assert.match(f.get("secs_since_last_cmd")!, /^\d+$/);
      });
    }
    // A client in the middle of a value, seen from the other thread.
    const [zero] = await onThread(clients, 0);
    const [one] = await onThread(clients, 1);
    await one.send("set half 0 0 10\r\nabc");
    const oneId = ids[clients.indexOf(one)];
    let state = "";
    for (let i = 0; i < 100 && state !== "conn_nread"; i++) {
      state = (await connsOf(zero)).get(oneId)!.get("state")!;
    }
    assert.equal(state, "conn_nread");
    assert.equal(await one.call("defghij\r\n"), "STORED\r\n");
    // Closed connections leave every thread's list.
    const gone = clients.filter((c) => c !== zero && c !== one).slice(0, 2);
    for (const c of gone) c.close();
    const goneIds = gone.map((c) => ids[clients.indexOf(c)]);
    for (const asker of [zero, one]) {
      let listed = goneIds;
      for (let i = 0; i < 200 && listed.length > 0; i++) {
        const conns = await connsOf(asker);
        listed = goneIds.filter((id) => conns.has(id));
      }
      assert.deepEqual(listed, []);
    }
    closeAll(clients);
  });
});

Deno.test("-t 2: the buffer figures of stats count every thread's connections", async () => {
  await withThreads([], async ({ port }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS);
    for (const c of clients) {
      const stats = await statsOf(c);
      assert.equal(stats.get("curr_connections"), String(CLIENTS));
      // Each connection holds a 16 KB read buffer and a 16 KB output buffer.
      assert.equal(stats.get("read_buf_count"), String(CLIENTS));
      assert.equal(stats.get("read_buf_bytes"), String(CLIENTS * 16384));
      assert.equal(stats.get("response_obj_count"), String(CLIENTS));
      assert.equal(stats.get("response_obj_bytes"), String(CLIENTS * 16384));
    }
    closeAll(clients);
  });
});

/** Reads `key` `times` times, pipelined 100 a batch. */
async function readMany(c: RawClient, key: string, times: number): Promise<void> {
  for (let i = 0; i < times; i += 100) {
    await c.send(`get ${key}\r\n`.repeat(100));
    const answer = await c.readUntil((t) => t.split("END\r\n").length > 100);
    assert.equal(answer, `VALUE ${key} 0 1\r\nx\r\nEND\r\n`.repeat(100));
  }
}

Deno.test("-t 2: hot keys are sampled over every thread and shown whole by each", async () => {
  await withThreads([], async ({ port, httpPort }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS);
    const [zero] = await onThread(clients, 0);
    const [one] = await onThread(clients, 1);
    for (const key of ["zero:k", "one:k"]) {
      assert.equal(await zero.call(`set ${key} 0 0 1\r\nx\r\n`), "STORED\r\n");
    }
    // About one read in 32 is sampled: some 100 samples of each.
    await Promise.all([readMany(zero, "zero:k", 3200), readMany(one, "one:k", 3200)]);
    const fromZero = await zero.call("stats hotkeys\r\n", "END\r\n");
    const fromOne = await one.call("stats hotkeys\r\n", "END\r\n");
    assert.equal(fromZero, fromOne);
    assert.match(fromZero, /^STAT zero:k \d+\r$/m);
    assert.match(fromZero, /^STAT one:k \d+\r$/m);
    const bodies = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const { status, body } = await httpOnce(httpPort, "/stats/hotkeys");
      assert.equal(status, 200);
      bodies.add(body);
    }
    assert.equal(bodies.size, 1, "every HTTP connection, on either thread, sees the same");
    const view = JSON.parse([...bodies][0]);
    assert.deepEqual(view.keys.map((k: { key: string }) => k.key).sort(), ["one:k", "zero:k"]);
    assert.equal(
      view.sampled,
      view.keys.reduce((sum: number, k: { count: number }) => sum + k.count, 0),
    );
    // stats reset on one thread clears what the other shows.
    assert.equal(await one.call("stats reset\r\n"), "RESET\r\n");
    assert.equal(await zero.call("stats hotkeys\r\n", "END\r\n"), "END\r\n");
    closeAll(clients);
  });
});

Deno.test("-t 2: stats detail is switched and counted for the whole process", async () => {
  await withThreads([], async ({ port, httpPort }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS);
    const [zero] = await onThread(clients, 0);
    const [one] = await onThread(clients, 1);
    assert.equal(await zero.call("stats detail on\r\n"), "OK\r\n");
    assert.equal((await statsOf(one, "settings")).get("detail_enabled"), "yes");
    await Promise.all(clients.map(async (c, i) => {
      assert.equal(await c.call(`set a:${i} 0 0 1\r\nx\r\n`), "STORED\r\n");
      assert.equal(await c.call(`get a:${i}\r\n`, "END\r\n"), `VALUE a:${i} 0 1\r\nx\r\nEND\r\n`);
      assert.equal(await c.call(`get b:${i}\r\n`, "END\r\n"), "END\r\n");
      assert.equal(await c.call(`delete a:${i}\r\n`), "DELETED\r\n");
    }));
    const dump = `PREFIX a get ${CLIENTS} hit ${CLIENTS} set ${CLIENTS} del ${CLIENTS}\r\n` +
      `PREFIX b get ${CLIENTS} hit 0 set 0 del 0\r\nEND\r\n`;
    for (const c of [zero, one]) {
      assert.equal(await c.call("stats detail dump\r\n", "END\r\n"), dump);
    }
    assert.equal(await one.call("stats detail off\r\n"), "OK\r\n");
    assert.equal((await statsOf(zero, "settings")).get("detail_enabled"), "no");
    assert.equal(await zero.call("set a:z 0 0 1\r\nx\r\n"), "STORED\r\n");
    assert.equal(await zero.call("stats detail dump\r\n", "END\r\n"), dump);
    for (let i = 0; i < 4; i++) {
      const { body } = await httpOnce(httpPort, "/stats/detail");
      assert.deepEqual(JSON.parse(body), {
        enabled: false,
        delimiter: ":",
        dropped: 0,
        prefixes: {
          a: { get: CLIENTS, hit: CLIENTS, set: CLIENTS, del: CLIENTS },
          b: { get: CLIENTS, hit: 0, set: 0, del: 0 },
        },
      });
    }
    assert.equal(await one.call("stats reset\r\n"), "RESET\r\n");
    assert.equal(await zero.call("stats detail dump\r\n", "END\r\n"), "END\r\n");
    closeAll(clients);
  });
});

Deno.test("-t 2: verbosity, lru_crawler enable/disable and sizes_enable set the process's", async () => {
  await withThreads([], async ({ port }) => {
    const clients = await clientsOnEveryThread(port, 4);
    const [zero] = await onThread(clients, 0);
    const [one] = await onThread(clients, 1);
    assert.equal(await zero.call("verbosity 1\r\n"), "OK\r\n");
    assert.equal((await statsOf(one, "settings")).get("verbosity"), "1");
    assert.equal(await zero.call("lru_crawler disable\r\n"), "OK\r\n");
    assert.equal((await statsOf(one, "settings")).get("lru_crawler"), "no");
    assert.equal(
      await one.call("lru_crawler metadump all\r\n"),
      "CLIENT_ERROR lru crawler disabled\r\n",
    );
    assert.equal(
      await one.call("lru_crawler crawl all\r\n"),
      "CLIENT_ERROR lru crawler disabled\r\n",
    );
    assert.equal(await one.call("lru_crawler enable\r\n"), "OK\r\n");
    assert.equal(
      await zero.call("lru_crawler enable\r\n"),
      "ERROR failed to start lru crawler thread\r\n",
    );
    assert.equal((await statsOf(zero, "settings")).get("lru_crawler"), "yes");
    assert.equal(await zero.call("stats sizes_enable\r\n"), "STAT sizes_status enabled\r\n");
    assert.equal(await one.call("set sized 0 0 10\r\n0123456789\r\n"), "STORED\r\n");
    const sizes = await one.call("stats sizes\r\n", "END\r\n");
    assert.match(sizes, /^STAT \d+ 1\r\nEND\r\n$/);
    assert.equal(await zero.call("stats sizes\r\n", "END\r\n"), sizes);
    assert.equal(await one.call("stats sizes_disable\r\n"), "STAT sizes_status disabled\r\n");
    assert.equal(
      await zero.call("stats sizes\r\n", "END\r\n"),
      "STAT sizes_status disabled\r\nEND\r\n",
    );
    closeAll(clients);
  });
});

Deno.test("-t 2: watchers are counted and capped over every thread", async () => {
  await withThreads([], async ({ port }) => {
    // memcached's limit is 20 watchers in all.
    const clients = await clientsOnEveryThread(port, 23);
    const [zero] = await onThread(clients, 0);
    const [one] = await onThread(clients, 1);
    const watchers = clients.filter((c) => c !== zero && c !== one).slice(0, 21);
    const answers: string[] = [];
    for (const w of watchers) answers.push(await w.call("watch\r\n"));
    assert.equal(answers.filter((a) => a === "OK\r\n").length, 20);
    assert.deepEqual(answers.filter((a) => a !== "OK\r\n"), [
      "WATCHER_TOO_MANY log watcher limit reached\r\n",
    ]);
    for (const c of [zero, one]) {
      const stats = await statsOf(c);
      assert.equal(stats.get("log_watchers"), "20");
      assert.equal(stats.get("log_watcher_sent"), "0");
    }
    // One fetch: a line to each of the 20 watchers, whichever thread serves them.
    assert.equal(await one.call("get nothing\r\n", "END\r\n"), "END\r\n");
    const watching = watchers.filter((_, i) => answers[i] === "OK\r\n");
    for (const w of watching) {
      assert.match(await w.readUntil((t) => t.endsWith("\n")), /type=item_get key=nothing /);
    }
    for (const c of [zero, one]) {
      const after = await statsOf(c);
      assert.equal(after.get("log_watcher_sent"), "20");
      assert.equal(after.get("log_watcher_skipped"), "0");
    }
    closeAll(clients);
  });
});
