/**
 * The binary protocol on this server alone: what the comparison with memcached cannot show
 * (time, counters, requests split across reads) or needs its own flags for.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import {
  arithExtras,
  BinaryClient,
  packet,
  type Request,
  type Response,
  setExtras,
  u32,
} from "../helpers/binary.ts";
import { type Child, startOurs } from "../helpers/server.ts";

const set = (key: string, value: string, flags = 0, exptime = 0): Request => ({
  opcode: 0x01,
  key,
  value,
  extras: setExtras(flags, exptime),
});

async function withServer(args: string[], run: (server: Child) => Promise<void>): Promise<void> {
  const server = await startOurs(args);
  try {
    await run(server);
  } finally {
    await server.stop();
  }
}

/** Moves the server's clock through a text connection (needs --enable-debugtime). */
async function advance(port: number, seconds: number): Promise<void> {
  const text = await RawClient.connect(port);
  try {
    assert.equal(await text.call(`debugtime ${seconds}\r\n`), "OK\r\n");
  } finally {
    text.close();
  }
}

async function textStats(port: number, group = ""): Promise<Map<string, string>> {
  const text = await RawClient.connect(port);
  try {
    const answer = await text.call(`stats${group === "" ? "" : " " + group}\r\n`, "END\r\n");
    const stats = new Map<string, string>();
    for (const line of answer.split("\r\n")) {
      const m = /^STAT (\S+) (.*)$/.exec(line);
      if (m) stats.set(m[1], m[2]);
    }
    return stats;
  } finally {
    text.close();
  }
}

function binaryStats(packets: Response[]): Map<string, string> {
  const last = packets[packets.length - 1];
  assert.equal(last.keyLength, 0, "stats end with an empty packet");
  assert.equal(last.bodyLength, 0);
  return new Map(packets.slice(0, -1).map((p) => [p.key, p.value]));
}

Deno.test("binary protocol on this server", async (t) => {
  await withServer(["--enable-debugtime", "-I", "2k"], async (server) => {
    const c = await BinaryClient.connect(server.port);
    try {
      await t.step("opaque and CAS round-trip", async () => {
        const [stored] = await c.call(1, { ...set("rt", "v"), opaque: 0xffffffff });
        assert.equal(stored.status, 0);
        assert.equal(stored.opaque, 0xffffffff);
        assert.notEqual(stored.cas, 0n);
        const [hit] = await c.call(1, { opcode: 0x00, key: "rt", opaque: 0x01020304 });
        assert.equal(hit.opaque, 0x01020304);
        assert.equal(hit.cas, stored.cas);
        const [swapped] = await c.call(1, { ...set("rt", "w"), cas: stored.cas, opaque: 7 });
        assert.equal(swapped.status, 0);
        assert.ok(swapped.cas > stored.cas);
        const [stale] = await c.call(1, { ...set("rt", "x"), cas: stored.cas, opaque: 8 });
        assert.equal(stale.status, 0x02);
        assert.equal(stale.opaque, 8);
        assert.equal(stale.cas, 0n);
      });

      await t.step("a request split into single bytes is still one request", async () => {
        const bytes = packet({ ...set("split", "abcdef", 5), opaque: 9 });
        for (let i = 0; i < bytes.length; i++) await c.raw.send(bytes.subarray(i, i + 1));
        const [stored] = await c.read(1);
        assert.equal(stored.status, 0);
        assert.equal(stored.opaque, 9);
        const [hit] = await c.call(1, { opcode: 0x00, key: "split" });
        assert.equal(hit.value, "abcdef");
        assert.deepEqual([...hit.extras], [0, 0, 0, 5]);
      });

      await t.step(
        "a value over -I is refused with E2BIG and the stream stays in sync",
        async () => {
          const request = packet({ ...set("huge", "v".repeat(5000)), opaque: 1 });
          // The header first, the value later: the refusal must not wait for it.
          await c.raw.send(request.subarray(0, 40));
          const [refused] = await c.read(1);
          assert.equal(refused.status, 0x03);
          assert.equal(refused.value, "Too large.");
          await c.raw.send(request.subarray(40));
          const [miss, noop] = await c.call(2, { opcode: 0x00, key: "huge", opaque: 2 }, {
            opcode: 0x0a,
            opaque: 3,
          });
          assert.equal(miss.status, 0x01);
          assert.equal(noop.opaque, 3);
        },
      );

      await t.step("quiet commands answer only failures and hits", async () => {
        const answers = await c.call(
          4,
          { ...set("q", "1"), opcode: 0x11, opaque: 1 },
          { ...set("q", "2"), opcode: 0x12, opaque: 2 },
          { opcode: 0x09, key: "q", opaque: 3 },
          { opcode: 0x09, key: "nothing", opaque: 4 },
          { opcode: 0x14, key: "nothing", opaque: 5 },
          { opcode: 0x0a, opaque: 6 },
        );
        assert.deepEqual(answers.map((p) => [p.opaque, p.status]), [[2, 2], [3, 0], [5, 1], [
          6,
          0,
        ]]);
      });

      await t.step("a delayed flush lets items live until its time", async () => {
        await c.call(1, set("fl", "x"));
        const [flushed] = await c.call(1, { opcode: 0x08, extras: u32(10) });
        assert.equal(flushed.status, 0);
        assert.equal((await c.call(1, { opcode: 0x00, key: "fl" }))[0].status, 0);
        await advance(server.port, 11);
        assert.equal((await c.call(1, { opcode: 0x00, key: "fl" }))[0].status, 1);
      });

      await t.step("incr creates with its initial value and expiration", async () => {
        const [created] = await c.call(1, {
          opcode: 0x05,
          key: "ctr",
          extras: arithExtras(5n, 42n, 30),
        });
        assert.equal(created.status, 0);
        assert.equal(created.extLength, 0);
        assert.equal(bigAt(created.value), 42n);
        const [next] = await c.call(1, {
          opcode: 0x05,
          key: "ctr",
          extras: arithExtras(5n, 42n, 30),
        });
        assert.equal(bigAt(next.value), 47n);
        await advance(server.port, 31);
        const [gone] = await c.call(1, {
          opcode: 0x05,
          key: "ctr",
          extras: arithExtras(1n, 0n, 0xffffffff),
        });
        assert.equal(gone.status, 0x01);
      });

      await t.step("gat and touch move the expiration", async () => {
        await c.call(1, set("g", "gv", 0, 5));
        const [gat] = await c.call(1, { opcode: 0x1d, key: "g", extras: u32(100) });
        assert.equal(gat.value, "gv");
        await advance(server.port, 10);
        assert.equal((await c.call(1, { opcode: 0x00, key: "g" }))[0].status, 0);
        const [touched] = await c.call(1, { opcode: 0x1c, key: "g", extras: u32(5) });
        assert.equal(touched.status, 0);
        assert.equal(touched.value, "");
        await advance(server.port, 10);
        assert.equal((await c.call(1, { opcode: 0x00, key: "g" }))[0].status, 1);
      });

      await t.step("Stat without a group is the text protocol's stats", async () => {
        const stats = await statCall(c, "");
        const text = await textStats(server.port);
        assert.deepEqual([...stats.keys()], [...text.keys()]);
        assert.equal(stats.get("version"), text.get("version"));
        assert.deepEqual(await statCall(c, "settings"), await textStats(server.port, "settings"));
      });

      await t.step("binary commands count in the same counters", async () => {
        await c.call(1, { opcode: 0x10, key: "reset" });
        await c.send(
          { ...set("s1", "1"), opcode: 0x11 },
          { opcode: 0x09, key: "s1" },
          { opcode: 0x09, key: "s2" },
          { opcode: 0x15, key: "s1", extras: arithExtras(1n, 0n, 0xffffffff) },
          { opcode: 0x15, key: "s2", extras: arithExtras(1n, 0n, 0xffffffff) },
          { opcode: 0x15, key: "s3", extras: arithExtras(1n, 0n, 0) },
          { opcode: 0x1e, key: "s1", extras: u32(0) },
          { opcode: 0x14, key: "s1" },
          { opcode: 0x0a, opaque: 99 },
        );
        await c.readUntil((got) => got.some((p) => p.opaque === 99));
        const text = await textStats(server.port);
        const expect = {
          cmd_get: "2",
          get_hits: "1",
          get_misses: "1",
          cmd_set: "1",
          incr_hits: "1",
          incr_misses: "1",
          cmd_touch: "1",
          touch_hits: "1",
          delete_hits: "1",
        };
        for (const [name, value] of Object.entries(expect)) {
          assert.equal(text.get(name), value, name);
        }
      });
    } finally {
      c.close();
    }
  });
});

Deno.test("-B binary closes text clients", async () => {
  await withServer(["-B", "binary"], async (server) => {
    const text = await RawClient.connect(server.port);
    // memcached reads a whole 24-byte header before it looks at the magic byte.
    await text.send("version\r\nversion\r\nversion\r\n");
    assert.ok(await text.closedByPeer());
    text.close();
    const c = await BinaryClient.connect(server.port);
    const [version] = await c.call(1, { opcode: 0x0b });
    assert.equal(version.value, "1.6.18");
    c.close();
  });
});

function bigAt(bytes: string): bigint {
  let n = 0n;
  for (let i = 0; i < bytes.length; i++) n = (n << 8n) | BigInt(bytes.charCodeAt(i));
  return n;
}

/** Sends Stat with a group and reads up to the empty packet that ends the answer. */
async function statCall(c: BinaryClient, group: string): Promise<Map<string, string>> {
  await c.send({ opcode: 0x10, key: group });
  const { packets } = await c.readUntil((got) => got.some((p) => p.keyLength === 0));
  return binaryStats(packets);
}
