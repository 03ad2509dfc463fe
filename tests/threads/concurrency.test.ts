/**
 * -t 2: several clients on both worker threads race over the one shared store. Every result is
 * checked exactly (counts, CAS winners, each appended piece once, self-checking values), with
 * seeded randomness so a failure names its seed.
 */
import assert from "node:assert/strict";
import { generator } from "../helpers/random.ts";
import {
  clientsOnEveryThread,
  closeAll,
  onThread,
  THREADS,
  withThreads,
} from "../helpers/threads.ts";

const CLIENTS = 8;

Deno.test("-t 2: clients incrementing one key on both threads lose no increment", async () => {
  await withThreads([], async ({ port }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS, THREADS);
    await clients[0].call("set counter 0 0 1\r\n0\r\n");
    const rounds = 300;
    // Pipelined in batches of 10, so the threads' batches interleave in the store.
    await Promise.all(clients.map(async (c) => {
      for (let i = 0; i < rounds; i += 10) {
        await c.send("incr counter 1\r\n".repeat(10));
        const answer = await c.readUntil((t) => t.split("\r\n").length > 10);
        const lines = answer.split("\r\n").filter((l) => l !== "");
        assert.equal(lines.length, 10);
        for (const l of lines) assert.match(l, /^\d+$/);
      }
    }));
    assert.equal(
      await clients[0].call("get counter\r\n", "END\r\n"),
      `VALUE counter 0 4\r\n${CLIENTS * rounds}\r\nEND\r\n`,
    );
    closeAll(clients);
  });
});

Deno.test("-t 2: a CAS race has exactly one winner per round", async () => {
  await withThreads([], async ({ port }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS, THREADS);
    await clients[0].call("set race 0 0 5\r\nstart\r\n");
    for (let round = 0; round < 100; round++) {
      const seen = await Promise.all(clients.map((c) => c.call("gets race\r\n", "END\r\n")));
      const cas = seen.map((s) => /^VALUE race 0 \d+ (\d+)\r\n/.exec(s)![1]);
      assert.equal(new Set(cas).size, 1, `round ${round}: every client saw one item`);
      const mine = (i: number) => `c${i}r${round}`;
      const answers = await Promise.all(
        clients.map((c, i) => c.call(`cas race 0 0 ${mine(i).length} ${cas[i]}\r\n${mine(i)}\r\n`)),
      );
      const winners = answers.filter((a) => a === "STORED\r\n");
      assert.equal(winners.length, 1, `round ${round}: ${answers.join(" ")}`);
      assert.equal(answers.filter((a) => a === "EXISTS\r\n").length, CLIENTS - 1);
      const winner = answers.indexOf("STORED\r\n");
      assert.equal(
        await clients[0].call("get race\r\n", "END\r\n"),
        `VALUE race 0 ${mine(winner).length}\r\n${mine(winner)}\r\nEND\r\n`,
      );
    }
    closeAll(clients);
  });
});

Deno.test("-t 2: pieces appended from both threads are each there exactly once", async () => {
  await withThreads([], async ({ port }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS, THREADS);
    await clients[0].call("set pieces 0 0 0\r\n\r\n");
    const each = 100;
    await Promise.all(clients.map(async (c, i) => {
      for (let n = 0; n < each; n++) {
        const piece = `${i}.${n};`;
        assert.equal(
          await c.call(`append pieces 0 0 ${piece.length}\r\n${piece}\r\n`),
          "STORED\r\n",
        );
      }
    }));
    const got = await clients[0].call("get pieces\r\n", "END\r\n");
    const value = got.split("\r\n")[1];
    const pieces = value.split(";").filter((p) => p !== "");
    assert.equal(pieces.length, CLIENTS * each);
    assert.equal(new Set(pieces).size, CLIENTS * each);
    // Each client's own pieces keep its order.
    for (let i = 0; i < CLIENTS; i++) {
      const mine = pieces.filter((p) => p.startsWith(`${i}.`)).map((p) => Number(p.split(".")[1]));
      assert.deepEqual(mine, [...mine].sort((a, b) => a - b));
    }
    closeAll(clients);
  });
});

/** A value that names its key and sums its bytes: a torn or foreign value cannot pass. */
function selfChecking(key: string, size: number, pick: (n: number) => number): string {
  let body = "";
  while (body.length < size) body += String.fromCharCode(97 + pick(26));
  return `${key}|${size}|${checksum(body)}|${body}`;
}

function checksum(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) >>> 0;
  return h;
}

function checkValue(key: string, value: string): void {
  const [k, size, sum, body] = value.split("|");
  assert.equal(k, key, "a value read under its own key");
  assert.equal(body.length, Number(size), `${key}: whole`);
  assert.equal(checksum(body), Number(sum), `${key}: not torn`);
}

for (const seed of [1, 2]) {
  Deno.test(`-t 2: values are never torn or foreign under eviction (seed ${seed})`, async () => {
    // -m 2 holds a few hundred of these values: writers on both threads evict all the time while
    // readers copy values out.
    await withThreads(["-m", "2"], async ({ port }) => {
      const clients = await clientsOnEveryThread(port, CLIENTS, THREADS);
      let hits = 0;
      await Promise.all(clients.map(async (c, i) => {
        const pick = generator(seed * 1000 + i);
        for (let n = 0; n < 250; n++) {
          const key = `k${pick(400)}`;
          if (pick(3) === 0) {
            const size = pick(4) === 0 ? 20_000 + pick(60_000) : 10 + pick(2000);
            const value = selfChecking(key, size, pick);
            assert.equal(
              await c.call(`set ${key} 0 0 ${value.length}\r\n${value}\r\n`),
              "STORED\r\n",
            );
          } else {
            const keys = [key, `k${pick(400)}`, `k${pick(400)}`];
            const got = await c.call(`get ${keys.join(" ")}\r\n`, "END\r\n");
            for (const m of got.matchAll(/VALUE (\S+) 0 (\d+)\r\n/g)) {
              const start = m.index! + m[0].length;
              checkValue(m[1], got.slice(start, start + Number(m[2])));
              hits++;
            }
          }
        }
      }));
      assert.ok(hits > 100, `readers met values (${hits})`);
      const stats = await clients[0].call("stats\r\n", "END\r\n");
      assert.ok(Number(/STAT evictions (\d+)/.exec(stats)![1]) > 0, "the store evicted");
      closeAll(clients);
    });
  });
}

Deno.test("-t 2: flush_all and cache_memlimit while both threads write", async () => {
  await withThreads(["-m", "8"], async ({ port }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS, THREADS);
    const admin = clients[0];
    const writers = clients.slice(1);
    let stop = false;
    const writing = Promise.all(writers.map(async (c, i) => {
      const pick = generator(77 + i);
      while (!stop) {
        const key = `w${i}-${pick(500)}`;
        const value = selfChecking(key, 100 + pick(4000), pick);
        assert.equal(await c.call(`set ${key} 0 0 ${value.length}\r\n${value}\r\n`), "STORED\r\n");
        const got = await c.call(`get ${key}\r\n`, "END\r\n");
        const m = /^VALUE \S+ 0 (\d+)\r\n/.exec(got);
        if (m !== null) checkValue(key, got.slice(m[0].length, m[0].length + Number(m[1])));
      }
    }));
    try {
      for (const limit of [16, 8, 12, 8]) {
        assert.equal(await admin.call(`cache_memlimit ${limit}\r\n`), "OK\r\n");
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(await admin.call("flush_all\r\n"), "OK\r\n");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      stop = true;
      await writing;
    }
    // Nothing written before the last flush_all is served after it, by either thread.
    assert.equal(await admin.call("flush_all\r\n"), "OK\r\n");
    for (const c of writers) {
      const keys = Array.from({ length: 50 }, (_, n) => `w${writers.indexOf(c)}-${n}`);
      assert.equal(await c.call(`get ${keys.join(" ")}\r\n`, "END\r\n"), "END\r\n");
    }
    const stats = await admin.call("stats\r\n", "END\r\n");
    assert.match(stats, /STAT limit_maxbytes 8388608\r\n/);
    closeAll(clients);
  });
});

Deno.test("-t 2: a set made after flush_all on the other thread is kept, across clock ticks", async () => {
  await withThreads([], async ({ port }) => {
    const clients = await clientsOnEveryThread(port, CLIENTS, THREADS);
    const [flusher] = await onThread(clients, 0);
    const [writer] = await onThread(clients, 1);
    // Each thread's timer ticks at its own moment: were each to keep its own second, one would
    // read the second before the other's for a moment every second. 2.5 s of rounds cross two.
    const until = Date.now() + 2500;
    for (let round = 0; Date.now() < until; round++) {
      assert.equal(await flusher.call("flush_all\r\n"), "OK\r\n");
      const key = `after${round}`;
      assert.equal(await writer.call(`set ${key} 0 0 1\r\nx\r\n`), "STORED\r\n");
      assert.equal(
        await writer.call(`get ${key}\r\n`, "END\r\n"),
        `VALUE ${key} 0 1\r\nx\r\nEND\r\n`,
        `round ${round}: a set made after the flush_all was flushed`,
      );
    }
    closeAll(clients);
  });
});
