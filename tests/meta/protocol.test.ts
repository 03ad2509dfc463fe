/**
 * The meta protocol on this server alone: what the differential test cannot check against real
 * memcached because it depends on time (moved with `debugtime`) or on eviction order, plus the
 * base64 codec the `b` flag uses.
 */
import assert from "node:assert/strict";
import {
  base64Decode,
  base64EncodeInto,
  base64Length,
} from "../../src/protocol/text/meta/base64.ts";
import { latin1, RawClient } from "../helpers/client.ts";
import { type Child, startOurs } from "../helpers/server.ts";

/** Sends the requests followed by mn and returns everything answered before MN. */
async function ask(client: RawClient, request: string): Promise<string> {
  await client.send(request + "mn\r\n");
  const answer = await client.readUntil((t) => t.endsWith("MN\r\n"));
  return answer.slice(0, -4);
}

/**
 * Asserts an answer where TTLs and ages (t, l, la=, exp=) may be one second off the expected value:
 * the server's clock also follows the wall clock, which can tick between two requests.
 */
function assertTimes(actual: string, expected: string): void {
  const a = actual.split(/(\d+)/);
  const e = expected.split(/(\d+)/);
  const timed = (before: string) => / [tl]$|la=$|exp=-?$/.test(before);
  const same = a.length === e.length &&
    a.every((part, i) =>
      i % 2 === 0 ? part === e[i] : part === e[i] ||
        (timed(e[i - 1]) && Math.abs(Number(part) - Number(e[i])) <= 1)
    );
  assert.ok(same, `expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

async function withServer(
  args: string[],
  body: (client: RawClient) => Promise<void>,
): Promise<void> {
  const server: Child = await startOurs(args);
  const client = await RawClient.connect(server.port);
  try {
    await body(client);
  } finally {
    client.close();
    await server.stop();
  }
}

const DEBUG = ["--enable-debugtime"];

Deno.test("mg t counts down and T sets a new TTL", async () => {
  await withServer(DEBUG, async (c) => {
    assertTimes(await ask(c, "ms a 1 T100\r\nx\r\nmg a t\r\n"), "HD\r\nHD t100\r\n");
    await ask(c, "debugtime 30\r\n");
    assertTimes(await ask(c, "mg a t v\r\n"), "VA 1 t70\r\nx\r\n");
    assertTimes(await ask(c, "mg a T10 t\r\nmg a t\r\n"), "HD t10\r\nHD t10\r\n");
    await ask(c, "debugtime 11\r\n");
    assert.equal(await ask(c, "mg a t\r\n"), "EN\r\n");
  });
});

Deno.test("mg N vivifies with its TTL, and the item expires like any other", async () => {
  await withServer(DEBUG, async (c) => {
    assertTimes(await ask(c, "mg a N10 t s v\r\n"), "VA 0 t10 s0 W\r\n\r\n");
    assertTimes(await ask(c, "mg a N10 t\r\n"), "HD t10 Z\r\n");
    await ask(c, "debugtime 11\r\n");
    assert.equal(await ask(c, "mg a t\r\n"), "EN\r\n");
    assertTimes(await ask(c, "mg a N10 t\r\n"), "HD t10 W\r\n");
  });
});

Deno.test("mg R wins the recache once the TTL left drops below it", async () => {
  await withServer(DEBUG, async (c) => {
    assertTimes(await ask(c, "ms a 1 T100\r\nx\r\nmg a R30 t\r\n"), "HD\r\nHD t100\r\n");
    await ask(c, "debugtime 75\r\n");
    assertTimes(await ask(c, "mg a R30 t\r\n"), "HD t25 W\r\n");
    assertTimes(await ask(c, "mg a R30 t\r\n"), "HD t25 Z\r\n");
    // A new value clears the win: the next reader below the threshold wins again.
    assert.equal(await ask(c, "ms a 1 T20\r\ny\r\nmg a R30\r\n"), "HD\r\nHD W\r\n");
  });
});

Deno.test("mg l and me la report the time since the last access", async () => {
  await withServer(DEBUG, async (c) => {
    assert.equal(await ask(c, "ms a 1 T100\r\nx\r\n"), "HD\r\n");
    await ask(c, "debugtime 5\r\n");
    assert.match(
      await ask(c, "me a\r\n"),
      /^ME a exp=-9[456] la=[456] cas=\d+ fetch=no cls=1 size=61\r\n$/,
    );
    assertTimes(await ask(c, "mg a l h\r\n"), "HD l5 h0\r\n");
    assert.match(await ask(c, "me a\r\n"), / la=0 .*fetch=yes/);
    // u reads without counting as an access.
    await ask(c, "debugtime 3\r\n");
    assertTimes(await ask(c, "mg a u v\r\nmg a l\r\n"), "VA 1\r\nx\r\nHD l3\r\n");
  });
});

Deno.test("md I with T limits how long the stale item lives", async () => {
  await withServer(DEBUG, async (c) => {
    assert.equal(await ask(c, "ms a 1 T1000\r\nx\r\nmd a I T20\r\n"), "HD\r\nHD\r\n");
    assertTimes(await ask(c, "mg a t v\r\n"), "VA 1 t20 X W\r\nx\r\n");
    // T without I deletes outright and leaves the TTL alone.
    await ask(c, "debugtime 21\r\n");
    assert.equal(await ask(c, "mg a\r\n"), "EN\r\n");
  });
});

Deno.test("ms I keeps the old TTL of the item it marks stale", async () => {
  await withServer(DEBUG, async (c) => {
    // Two stores, so the item's CAS is above 1 and C1 is older than it.
    const stored = await ask(c, "ms b 1\r\nx\r\nms a 1 T100 c\r\nx\r\n");
    assert.match(stored, /^HD\r\nHD c\d+\r\n$/);
    assertTimes(
      await ask(c, "ms a 1 C1 I T5\r\ny\r\nmg a t v\r\n"),
      "HD\r\nVA 1 t100 X W\r\ny\r\n",
    );
    assertTimes(await ask(c, "ms a 1 T5\r\nz\r\nmg a t v\r\n"), "HD\r\nVA 1 t5\r\nz\r\n");
  });
});

Deno.test("ma T and N set TTLs; a vivified counter expires", async () => {
  await withServer(DEBUG, async (c) => {
    assertTimes(await ask(c, "ma a N10 J7 t v\r\n"), "VA 1 t10\r\n7\r\n");
    assertTimes(await ask(c, "ma a T50 t v\r\n"), "VA 1 t50\r\n8\r\n");
    await ask(c, "debugtime 51\r\n");
    assert.equal(await ask(c, "ma a v\r\n"), "NF\r\n");
  });
});

Deno.test("mg u does not move the item in the LRU", async () => {
  const value = "v".repeat(100 * 1024);
  const fill = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `ms k${from + i} ${value.length}\r\n${value}\r\n`)
      .join("");
  const survivors = async (c: RawClient, keys: string[]) => {
    const answer = await ask(c, keys.map((k) => `mg ${k} k q\r\n`).join(""));
    return [...answer.matchAll(/HD k(\S+)/g)].map((m) => m[1]);
  };
  // 1 MB holds ten 100 KB items; two more evict the two least recently used.
  await withServer(["-m", "1", "-I", "512k"], async (c) => {
    await ask(c, fill(0, 10));
    await ask(c, "mg k0 u\r\n");
    await ask(c, fill(10, 12));
    assert.deepEqual(await survivors(c, ["k0", "k1", "k2"]), ["k2"]);
  });
  await withServer(["-m", "1", "-I", "512k"], async (c) => {
    await ask(c, fill(0, 10));
    await ask(c, "mg k0\r\n");
    await ask(c, fill(10, 12));
    assert.deepEqual(await survivors(c, ["k0", "k1", "k2"]), ["k0"]);
  });
});

Deno.test("a quiet pipeline answers only what memcached does not suppress", async () => {
  await withServer([], async (c) => {
    const answer = await ask(
      c,
      "ms a 1 q\r\nx\r\nms a 1 q ME\r\ny\r\nmg a q v k\r\nmg b q v k\r\nmd b q\r\nmd a q\r\n" +
        "ma n q\r\nma n q N0\r\nma n q\r\nms a 1 q Fx\r\nx\r\n",
    );
    assert.equal(
      answer,
      "NS\r\nVA 1 ka\r\nx\r\nNF\r\nNF\r\nHD\r\nCLIENT_ERROR bad command line format\r\n",
    );
  });
});

Deno.test("meta commands keep a pipeline split at any byte", async () => {
  await withServer([], async (c) => {
    const request = "ms a 5 T0 F3 c\r\nhello\r\nmg a v f\r\nma n N0 J5 v\r\nmd a q\r\nmg a\r\n";
    for (const b of latin1(request)) await c.send(new Uint8Array([b]));
    const answer = await ask(c, "");
    assert.match(answer, /^HD c\d+\r\nVA 5 f3\r\nhello\r\nVA 1\r\n5\r\nEN\r\n$/);
  });
});

Deno.test("a refused ms drops its data block even when it arrives later", async () => {
  await withServer([], async (c) => {
    await c.send("ms a 2000000 T0\r\n");
    assert.equal(
      await c.readUntil((t) => t.endsWith("\r\n")),
      "SERVER_ERROR object too large for cache\r\n",
    );
    const chunk = "v".repeat(100000);
    for (let i = 0; i < 20; i++) await c.send(chunk);
    assert.equal(await ask(c, "\r\nmg a v\r\n"), "EN\r\n");
  });
});

// ---- base64 ---------------------------------------------------------------------------------

function decode(text: string): string | null {
  const bytes = latin1(text);
  const out = base64Decode(bytes, 0, bytes.length);
  return out === null ? null : String.fromCharCode(...out);
}

function encode(text: string): string {
  const data = latin1(text);
  const out = new Uint8Array(base64Length(data.length));
  const end = base64EncodeInto(data, out, 0);
  assert.equal(end, out.length);
  return String.fromCharCode(...out);
}

Deno.test("base64 encodes with padding", () => {
  assert.equal(encode(""), "");
  assert.equal(encode("a"), "YQ==");
  assert.equal(encode("ab"), "YWI=");
  assert.equal(encode("abc"), "YWJj");
  assert.equal(encode("\x00\x01\x02\xff"), "AAEC/w==");
});

Deno.test("base64 decodes with memcached's rules", () => {
  assert.equal(decode("YWJj"), "abc");
  assert.equal(decode("YWI="), "ab");
  assert.equal(decode("YQ=="), "a");
  assert.equal(decode("AAEC/w=="), "\x00\x01\x02\xff");
  // Bytes outside the alphabet are skipped.
  assert.equal(decode("Y.W-J_j"), "abc");
  // The count of alphabet bytes must be a non-zero multiple of four.
  assert.equal(decode("YQ"), null);
  assert.equal(decode("YQ="), null);
  assert.equal(decode(""), null);
  assert.equal(decode("...."), null);
  // Three pads in a block are refused; decoding stops after the first padded block.
  assert.equal(decode("Y==="), null);
  assert.equal(decode("YQ==YWJj"), "a");
  assert.equal(decode("Y=Q="), "`"); // a pad inside a block decodes as zero bits
});
