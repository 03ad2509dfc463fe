/**
 * The introspection and admin commands against the real memcached: the same bytes to both, the
 * answers compared after normalising only times, CAS uniques and connection ids/ports (and, for
 * dumps whose order is the hash table's or the LRU's, the order of lines).
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { type Child, startMemcached, startOurs, which } from "../helpers/server.ts";

const VERSION_LINE = "VERSION 1.6.18\r\n";
const ignore = which("memcached") === null;
if (ignore) {
  console.warn("\n!!! SKIPPED: memcached is not installed (apt-get install memcached) !!!\n");
}

function normalise(text: string): string {
  return text
    .replace(/\bexp=\d+/g, "exp=<t>")
    .replace(/\bla=\d+/g, "la=<t>")
    .replace(/\bcas=\d+/g, "cas=<cas>")
    .replace(/^(VALUE \S+ \d+ \d+) \d+\r$/gm, "$1 <cas>\r")
    .replace(/; \d+ s\]/g, (m) => (m === "; 0 s]" ? m : "; <t> s]"))
    .replace(/\bts=\d+\.\d+ gid=\d+/g, "ts=<t> gid=<n>")
    .replace(/\bttl=\d+/g, "ttl=<t>")
    .replace(/\bcfd=\d+/g, "cfd=<id>")
    .replace(/\brport=\d+/g, "rport=<port>")
    .replace(/^STAT \d+:/gm, "STAT <id>:")
    .replace(/(tcp:127\.0\.0\.1):\d+/g, "$1:<port>")
    .replace(/secs_since_last_cmd \d+/g, "secs_since_last_cmd <s>");
}

const sortLines = (text: string) => text.split(/(?<=\n)/).sort().join("");

interface Case {
  /** Sent in order; each step is read until the version sentinel that follows it. */
  steps: string[];
  /** The answer's order is the hash table's or the LRU's: compare lines as a multiset. */
  unordered?: boolean;
}

const cases: Record<string, Case> = {
  "stats detail on, dump, off": {
    steps: [
      "stats detail dump\r\nstats detail on\r\nset foo:1 0 0 1\r\nx\r\nget foo:1\r\n" +
      "get foo:2\r\ndelete foo:3\r\nstats detail dump\r\nstats detail off\r\nget foo:1\r\n" +
      "stats detail dump\r\nstats reset\r\nstats detail dump\r\n",
    ],
  },
  "stats detail usage errors": {
    steps: ["stats detail\r\nstats detail foo\r\nstats detail on x\r\n"],
  },
  "stats detail prefixes": {
    steps: [
      "stats detail on\r\nset a:1 0 0 1\r\nx\r\nset b:c:d 0 0 1\r\nx\r\nget :x\r\nget x:\r\n" +
      "get nodelimiter\r\ngets a:1 b:c:d\r\ngat 0 a:1\r\nincr a:1 1\r\ndelete b:c:d\r\n",
      "stats detail dump\r\n",
      "stats detail off\r\nstats reset\r\n",
    ],
    unordered: true,
  },
  "stats cachedump": {
    steps: [
      "set a 0 0 1\r\nx\r\nset b 5 100 2\r\nxy\r\nset big 0 0 500\r\n" + "v".repeat(500) + "\r\n",
      "stats cachedump 1 0\r\nstats cachedump 6 0\r\nstats cachedump 2 0\r\n",
    ],
    unordered: true,
  },
  "stats cachedump errors": {
    steps: [
      "stats cachedump 99 1\r\nstats cachedump 64 0\r\nstats cachedump 63 0\r\n" +
      "stats cachedump 1\r\nstats cachedump x 1\r\nstats cachedump 1 -1\r\n",
    ],
  },
  "lru_crawler metadump all": {
    steps: [
      "set a 0 0 1\r\nx\r\nset b:2 3 100 2\r\nxy\r\nset %c 0 0 300\r\n" + "v".repeat(300) + "\r\n" +
      "get a\r\n",
      "lru_crawler metadump all\r\n",
      "lru_crawler metadump hash\r\n",
    ],
    unordered: true,
  },
  "lru_crawler metadump classes": {
    steps: [
      "set a 0 0 1\r\nx\r\nset big 0 0 300\r\n" + "v".repeat(300) + "\r\n",
      "lru_crawler metadump 1\r\n",
      "lru_crawler metadump 1,5\r\n",
      "lru_crawler metadump 2\r\n",
    ],
    unordered: true,
  },
  "lru_crawler errors": {
    steps: [
      "lru_crawler metadump 99\r\nlru_crawler metadump 0\r\nlru_crawler metadump x\r\n" +
      "lru_crawler metadump\r\nlru_crawler crawl 99\r\nlru_crawler crawl x\r\nlru_crawler crawl\r\n" +
      "lru_crawler tocrawl 5\r\nlru_crawler tocrawl x\r\nlru_crawler sleep 100\r\n" +
      "lru_crawler sleep 2000000\r\nlru_crawler sleep x\r\nlru_crawler enable\r\n" +
      "lru_crawler foo\r\nlru_crawler\r\n",
      "version\r\nlru_crawler metadump all\r\n",
    ],
  },
  "lru_crawler crawl": { steps: ["lru_crawler crawl all\r\n"] },
  "lru mode and tune": {
    steps: [
      "lru mode flat\r\nlru mode segmented\r\nlru mode x\r\nlru mode\r\nlru tune 10 25 0.1 2\r\n" +
      "lru tune 50 40 0.1 2\r\nlru tune 10 25 0 2\r\nlru tune x 1 1 1\r\nlru tune\r\n" +
      "lru temp_ttl 5\r\nlru temp_ttl -1\r\nlru temp_ttl x\r\nlru\r\nlru foo\r\n",
    ],
  },
  "stats sizes": {
    steps: [
      "stats sizes\r\nstats sizes_enable\r\nset a 0 0 1\r\nx\r\nset b 0 0 100\r\n" +
      "v".repeat(100) +
      "\r\nstats sizes\r\nstats sizes_disable\r\nstats sizes\r\nstats sizes_disable\r\n",
    ],
  },
  "watch errors": { steps: ["watch foo\r\n", "version\r\nwatch\r\n"] },
};

async function exchange(port: number, c: Case): Promise<string> {
  const client = await RawClient.connect(port);
  try {
    await client.call("flush_all\r\n");
    let all = "";
    for (const step of c.steps) {
      await client.send(step);
      // The sentinel goes separately: metadump and watch refuse other commands in their batch.
      await new Promise((r) => setTimeout(r, 50));
      await client.send("version\r\n");
      all += await client.readUntil((t) => t.endsWith(VERSION_LINE), 3000);
    }
    const text = normalise(all);
    return c.unordered ? sortLines(text) : text;
  } finally {
    client.close();
  }
}

async function both<T>(
  args: string[],
  body: (real: Child, ours: Child) => Promise<T>,
): Promise<T> {
  const real = await startMemcached(args);
  const ours = await startOurs(args);
  try {
    return await body(real!, ours);
  } finally {
    await real?.stop();
    await ours.stop();
  }
}

Deno.test({
  name: "introspection and admin commands answer like memcached",
  ignore,
  fn: async (t) => {
    await both([], async (real, ours) => {
      for (const [name, c] of Object.entries(cases)) {
        await t.step(name, async () => {
          assert.equal(await exchange(ours.port, c), await exchange(real.port, c));
        });
      }
    });
  },
});

/** What a watcher sees while another client runs `traffic`. */
async function watched(port: number, classes: string, traffic: string): Promise<string> {
  const watcher = await RawClient.connect(port);
  try {
    assert.equal(await watcher.call(`watch ${classes}\r\n`), "OK\r\n");
    // Connected after the watch, so that both servers log its conn_new.
    const client = await RawClient.connect(port);
    await client.send(traffic + "version\r\n");
    await client.readUntil((t) => t.endsWith(VERSION_LINE), 3000);
    client.close();
    return normalise(await watcher.readFor(400));
  } finally {
    watcher.close();
  }
}

Deno.test({
  name: "watch lines are memcached's, event for event",
  ignore,
  fn: async (t) => {
    const traffic = "set w 0 0 5\r\nhello\r\nget w\r\nget nokey\r\nadd w 0 0 1\r\nx\r\n" +
      "append w 0 0 2\r\n!!\r\nprepend nokey 0 0 1\r\nx\r\nset t 0 100 1\r\nx\r\n" +
      "cas w 0 0 1 999\r\nx\r\nincr w 1\r\ntouch w 10\r\ndelete w\r\ndelete w\r\n" +
      "set gone 0 -1 1\r\nx\r\nget gone\r\n" +
      `set ${"#".repeat(250)} 0 0 1\r\nx\r\nset big 0 0 2000\r\n${"v".repeat(2000)}\r\n`;
    await both([], async (real, ours) => {
      for (const classes of ["fetchers mutations", "mutations", "fetchers", "connevents"]) {
        await t.step(classes, async () => {
          assert.equal(
            await watched(ours.port, classes, traffic),
            await watched(real.port, classes, traffic),
          );
        });
      }
    });
  },
});

Deno.test({
  name: "stats conns lists the listener, and a client in the middle of a value is conn_nread",
  ignore,
  fn: async () => {
    const conns = async (port: number) => {
      const sender = await RawClient.connect(port);
      const asker = await RawClient.connect(port);
      try {
        await sender.send("set foo 0 0 6\r\nhel");
        await new Promise((r) => setTimeout(r, 100));
        return normalise(await asker.call("stats conns\r\n", "END\r\n"));
      } finally {
        sender.close();
        asker.close();
      }
    };
    // One thread: at -t N `stats conns` lists the answering thread's connections (README, Threads).
    await both(["-t", "1"], async (real, ours) => {
      const expected = await conns(real.port);
      assert.match(expected, /conn_listening[\s\S]*conn_nread[\s\S]*conn_parse_cmd/);
      assert.equal(await conns(ours.port), expected);
    });
  },
});

Deno.test({
  name: "-X, -W and -D: dumps and watch refused, another prefix delimiter",
  ignore,
  fn: async () => {
    const c: Case = {
      steps: [
        "stats cachedump 1 0\r\nwatch\r\n",
        "lru_crawler metadump all\r\n",
        "stats detail on\r\nset a/b:c 0 0 1\r\nx\r\nstats detail dump\r\nstats detail off\r\n",
      ],
    };
    await both(["-X", "-W", "-D", "/"], async (real, ours) => {
      assert.equal(await exchange(ours.port, c), await exchange(real.port, c));
    });
  },
});

Deno.test({
  name: "-R: a connection yields after that many requests, as memcached counts conn_yields",
  ignore,
  fn: async () => {
    const yields = async (port: number) => {
      const client = await RawClient.connect(port);
      try {
        await client.send("set a 0 0 1\r\nx\r\n".repeat(6) + "version\r\n");
        const answers = await client.readUntil((t) => t.endsWith(VERSION_LINE));
        const stats = await client.call("stats\r\n", "END\r\n");
        return { answers, yields: Number(/conn_yields (\d+)/.exec(stats)![1]) };
      } finally {
        client.close();
      }
    };
    await both(["-R", "1"], async (real, ours) => {
      const expected = await yields(real.port);
      const actual = await yields(ours.port);
      assert.equal(actual.answers, expected.answers);
      assert.equal(actual.yields, expected.yields);
    });
  },
});

Deno.test({
  name: "-o no_lru_crawler: crawler commands refused until lru_crawler enable",
  ignore,
  fn: async () => {
    const c: Case = {
      steps: [
        "lru_crawler crawl all\r\nlru_crawler disable\r\n",
        "lru_crawler metadump all\r\n",
        "lru_crawler enable\r\n",
        "lru_crawler metadump all\r\n",
      ],
    };
    await both(["-o", "no_lru_crawler"], async (real, ours) => {
      assert.equal(await exchange(ours.port, c), await exchange(real.port, c));
    });
  },
});
