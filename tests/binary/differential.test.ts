/**
 * Holds the same binary protocol conversations with the real memcached and with this server and
 * compares every response packet. CAS values are renamed in order of appearance (the two servers'
 * counters start at different points); everything else must match byte for byte, including which
 * requests close the connection.
 */
import assert from "node:assert/strict";
import {
  arithExtras,
  BinaryClient,
  type Request,
  type Response,
  setExtras,
  text,
  u32,
} from "../helpers/binary.ts";
import { type Child, NO_MEMCACHED, startMemcached, startOurs } from "../helpers/server.ts";

const SENTINEL = 0xfeedface;
const NOOP = 0x0a;

/** One side of a conversation: every answer is written down, normalised, in `transcript`. */
class Conversation {
  readonly transcript: string[] = [];
  private readonly casNames = new Map<bigint, string>();
  constructor(private readonly client: BinaryClient) {}

  /** Sends requests followed by a noop and returns the answers that came before the noop's. */
  async say(...requests: Request[]): Promise<Response[]> {
    await this.client.send(...requests, { opcode: NOOP, opaque: SENTINEL });
    const { packets, rest } = await this.client.readUntil(
      (got) => got.some((p) => p.opaque === SENTINEL),
      3000,
    );
    this.write(packets, rest);
    const end = packets.findIndex((p) => p.opaque === SENTINEL);
    if (end === -1) this.transcript.push("(no answer to the closing noop)");
    return packets.slice(0, end === -1 ? packets.length : end);
  }

  /** Sends requests the server answers by closing (or by waiting for more); notes which. */
  async last(waitMs: number, ...requests: Request[]): Promise<void> {
    await this.client.send(...requests);
    const { packets, rest } = await this.client.readUntil(() => false, waitMs);
    this.write(packets, rest);
    this.transcript.push((await this.client.closedByPeer(200)) ? "closed" : "open");
  }

  private write(packets: Response[], rest: Uint8Array): void {
    for (const p of packets) {
      let cas = "0";
      if (p.cas !== 0n) {
        if (!this.casNames.has(p.cas)) this.casNames.set(p.cas, `c${this.casNames.size + 1}`);
        cas = this.casNames.get(p.cas)!;
      }
      this.transcript.push(
        `magic=${p.magic.toString(16)} op=${p.opcode.toString(16)} status=${
          p.status.toString(16)
        } opaque=${p.opaque} cas=${cas} extras=${JSON.stringify(text(p.extras))} key=${
          JSON.stringify(p.key)
        } value=${JSON.stringify(p.value)}`,
      );
    }
    if (rest.length > 0) this.transcript.push(`partial: ${JSON.stringify(text(rest))}`);
  }
}

const set = (key: string, value: string, flags = 0, exptime = 0, opaque = 0): Request => ({
  opcode: 0x01,
  key,
  value,
  extras: setExtras(flags, exptime),
  opaque,
});
const get = (opcode: number, key: string, opaque = 0): Request => ({ opcode, key, opaque });
const arith = (opcode: number, key: string, delta: bigint, initial: bigint, exp: number) => ({
  opcode,
  key,
  extras: arithExtras(delta, initial, exp),
});
const big = (n: number) => "v".repeat(n);

type Case = (c: Conversation) => Promise<void>;

const cases: Record<string, Case> = {
  "get, getk, getq, getkq hits": async (c) => {
    await c.say(set("a", "value", 7, 0, 1));
    await c.say(get(0x00, "a", 2), get(0x0c, "a", 3), get(0x09, "a", 4), get(0x0d, "a", 5));
  },
  "misses; quiet misses say nothing": async (c) => {
    await c.say(get(0x00, "no", 1), get(0x0c, "no", 2), get(0x09, "no", 3), get(0x0d, "no", 4));
  },
  "add, replace and their quiet forms": async (c) => {
    await c.say(
      { ...set("a", "1"), opcode: 0x02, opaque: 1 },
      { ...set("a", "2"), opcode: 0x02, opaque: 2 },
      { ...set("a", "3"), opcode: 0x12, opaque: 3 },
      { ...set("b", "4"), opcode: 0x03, opaque: 4 },
      { ...set("b", "5"), opcode: 0x13, opaque: 5 },
      { ...set("a", "6"), opcode: 0x03, opaque: 6 },
      { ...set("a", "7"), opcode: 0x13, opaque: 7 },
      { ...set("c", "8"), opcode: 0x11, opaque: 8 },
      get(0x00, "a", 9),
      get(0x00, "c", 10),
    );
  },
  "append and prepend": async (c) => {
    await c.say(
      { opcode: 0x0e, key: "m", value: "x", opaque: 1 },
      { opcode: 0x19, key: "m", value: "x", opaque: 2 },
      set("m", "mid", 3),
      { opcode: 0x0e, key: "m", value: "-end", opaque: 3 },
      { opcode: 0x0f, key: "m", value: "start-", opaque: 4 },
      { opcode: 0x19, key: "m", value: "!", opaque: 5 },
      { opcode: 0x1a, key: "m", value: "^", opaque: 6 },
      get(0x00, "m", 7),
    );
  },
  "cas round trip": async (c) => {
    const [stored] = await c.say(set("k", "one"));
    const good = stored.cas;
    const stale = good + 1000n;
    const [hit] = await c.say(get(0x00, "k"));
    assert.equal(hit.cas, good);
    await c.say({ ...set("k", "two"), cas: stale, opaque: 1 });
    const [updated] = await c.say({ ...set("k", "two"), cas: good, opaque: 2 });
    const now = updated.cas;
    await c.say(
      { ...set("k", "x"), opcode: 0x02, cas: stale, opaque: 3 },
      { ...set("k", "x"), opcode: 0x03, cas: stale, opaque: 4 },
      { opcode: 0x0e, key: "k", value: "x", cas: stale, opaque: 5 },
      { opcode: 0x04, key: "k", cas: stale, opaque: 6 },
      { ...set("none", "x"), cas: 5n, opaque: 7 },
      { ...set("none", "x"), opcode: 0x02, cas: 5n, opaque: 8 },
      { opcode: 0x0e, key: "none", value: "x", cas: 5n, opaque: 9 },
      { opcode: 0x04, key: "none", cas: 5n, opaque: 10 },
    );
    const [appended] = await c.say({ opcode: 0x0e, key: "k", value: "+", cas: now, opaque: 11 });
    await c.say({ ...set("k", "y"), opcode: 0x03, cas: appended.cas, opaque: 12 });
    const [last] = await c.say(get(0x00, "k"));
    await c.say({ opcode: 0x04, key: "k", cas: last.cas, opaque: 13 }, get(0x00, "k", 14));
  },
  "delete and deleteq": async (c) => {
    await c.say(
      { opcode: 0x04, key: "d", opaque: 1 },
      { opcode: 0x14, key: "d", opaque: 2 },
      set("d", "x"),
      { opcode: 0x14, key: "d", opaque: 3 },
      set("e", "x"),
      { opcode: 0x04, key: "e", opaque: 4 },
      get(0x00, "d", 5),
    );
  },
  "incr and decr": async (c) => {
    await c.say(
      arith(0x05, "n", 1n, 10n, 0xffffffff),
      arith(0x06, "n", 1n, 10n, 0xffffffff),
      arith(0x15, "n", 1n, 10n, 0xffffffff),
      arith(0x05, "n", 1n, 10n, 0),
      arith(0x05, "n", 5n, 10n, 0),
      arith(0x06, "n", 100n, 10n, 0),
      get(0x00, "n"),
      arith(0x15, "n", 9n, 0n, 0),
      arith(0x05, "n", 1n, 0n, 0),
      get(0x00, "n"),
      arith(0x16, "m", 1n, 42n, 0),
      get(0x00, "m"),
    );
  },
  // memcached holds an item a get answered until it writes the answers out; a decr that meets a
  // held item writes a new one of exact length instead of padding in place.
  "decr after a get in the same batch: a new item": async (c) => {
    await c.say(set("h", "100"));
    await c.say(get(0x00, "h"), arith(0x06, "h", 95n, 0n, 0), get(0x00, "h"));
  },
  "a second -R stretch is 20 requests": async (c) => {
    await c.say(set("h", "100"));
    const misses = (n: number) => Array.from({ length: n }, () => get(0x09, "missing"));
    // Requests 1-21 are the first stretch; the get is the 22nd.
    await c.say(...misses(21), get(0x00, "h"), ...misses(18), arith(0x06, "h", 5n, 0n, 0));
    await c.say(...misses(21), get(0x00, "h"), ...misses(19), arith(0x06, "h", 5n, 0n, 0));
    await c.say(get(0x00, "h"));
  },
  "decr after a get and an error in the same batch: in place (an error writes out)": async (c) => {
    await c.say(set("h", "100"));
    await c.say(get(0x00, "h"), get(0x00, "missing"), arith(0x06, "h", 95n, 0n, 0), get(0x00, "h"));
  },
  "decr 21 requests after a get in the same batch: in place (-R writes out)": async (c) => {
    await c.say(set("h", "100"));
    const others = Array.from({ length: 20 }, () => get(0x09, "missing"));
    await c.say(get(0x00, "h"), ...others, arith(0x06, "h", 95n, 0n, 0), get(0x00, "h"));
  },
  "decr 20 requests after a get in the same batch: a new item": async (c) => {
    await c.say(set("h", "100"));
    const others = Array.from({ length: 19 }, () => get(0x09, "missing"));
    await c.say(get(0x00, "h"), ...others, arith(0x06, "h", 95n, 0n, 0), get(0x00, "h"));
  },
  "incr wraps, decr shrinks in place": async (c) => {
    await c.say(
      set("w", "18446744073709551615"),
      arith(0x05, "w", 2n, 0n, 0),
      get(0x00, "w"),
      set("s", "100"),
      arith(0x06, "s", 95n, 0n, 0),
      get(0x00, "s"),
    );
  },
  "incr on a non-number and with a stale cas": async (c) => {
    await c.say(
      set("t", "abc"),
      arith(0x05, "t", 1n, 0n, 0),
      arith(0x16, "t", 1n, 0n, 0),
      { ...arith(0x05, "t", 1n, 0n, 0), cas: 12345n },
      set("u", "5"),
      { ...arith(0x05, "u", 1n, 0n, 0), cas: 12345n },
    );
  },
  "touch and the gat family": async (c) => {
    await c.say(set("t", "tv", 9));
    await c.say(
      { opcode: 0x1c, key: "t", extras: u32(100), opaque: 1 },
      { opcode: 0x1d, key: "t", extras: u32(100), opaque: 2 },
      { opcode: 0x1e, key: "t", extras: u32(100), opaque: 3 },
      { opcode: 0x23, key: "t", extras: u32(100), opaque: 4 },
      { opcode: 0x24, key: "t", extras: u32(100), opaque: 5 },
      { opcode: 0x1c, key: "x", extras: u32(1), opaque: 6 },
      { opcode: 0x1d, key: "x", extras: u32(1), opaque: 7 },
      { opcode: 0x1e, key: "x", extras: u32(1), opaque: 8 },
      { opcode: 0x23, key: "x", extras: u32(1), opaque: 9 },
      { opcode: 0x24, key: "x", extras: u32(1), opaque: 10 },
    );
  },
  "expiration in the past and far in the future": async (c) => {
    await c.say(
      set("past", "x", 0, 2592001),
      set("future", "x", 0, 0xffffffff),
      get(0x00, "past"),
      get(0x00, "future"),
    );
  },
  "flush and flushq": async (c) => {
    await c.say(set("f", "x"), { opcode: 0x08, opaque: 1 }, get(0x00, "f", 2));
    await c.say(set("f", "x"), { opcode: 0x18, opaque: 3 }, get(0x00, "f", 4));
  },
  "version and noop echo the opaque": async (c) => {
    await c.say({ opcode: 0x0b, opaque: 77, cas: 5n }, { opcode: 0x0a, opaque: 78, cas: 9n });
  },
  "binary keys may hold spaces and control bytes": async (c) => {
    await c.say(set("a b\x00\r\n", "v"), get(0x0c, "a b\x00\r\n"), get(0x00, "k".repeat(250)));
  },
  "large value": async (c) => {
    await c.say(set("L", big(500_000)), get(0x00, "L"));
  },
  "value over the item size: too large, stays in sync, old value gone": async (c) => {
    await c.say(set("a", "old"));
    await c.say(set("a", big(1_100_000), 0, 0, 1), get(0x00, "a", 2));
    await c.say(set("b", "old"), { ...set("b", big(1_100_000)), opcode: 0x11, opaque: 3 });
    await c.say({ opcode: 0x0e, key: "b", value: big(1_100_000), opaque: 4 }, get(0x00, "b"));
    await c.say({ ...set("b", big(1_100_000)), opcode: 0x02, opaque: 5 }, get(0x00, "b"));
  },
  "many quiet sets then a get": async (c) => {
    const sets: Request[] = [];
    for (let i = 0; i < 100; i++) sets.push({ ...set(`q${i}`, `v${i}`), opcode: 0x11 });
    await c.say(...sets, get(0x0d, "q0"), get(0x0d, "q99"), get(0x0d, "q100"));
  },
  "unknown opcode without a body": async (c) => {
    await c.say({ opcode: 0x50, opaque: 1 }, { opcode: 0xff, opaque: 2 });
  },
  "unknown opcode with a value is skipped": async (c) => {
    await c.say({ opcode: 0x50, value: "abc", opaque: 1 });
  },
  "unknown opcode with a key: memcached skips too much": async (c) => {
    await c.last(300, { opcode: 0x50, key: "abc", opaque: 1 }, { opcode: 0x0a, opaque: 2 });
  },
  "verbosity is unknown": async (c) => {
    await c.last(300, { opcode: 0x1b, extras: u32(1), opaque: 1 }, { opcode: 0x0a, opaque: 2 });
  },
  "sasl opcodes without -S": async (c) => {
    await c.say({ opcode: 0x20, opaque: 1 });
    await c.say({ opcode: 0x21, key: "PLAIN", value: "\0a\0b", opaque: 2 });
    await c.say({ opcode: 0x22, key: "PLAIN", value: "\0a\0b", opaque: 3 });
  },
  "stat errors and groups without numbers": async (c) => {
    await c.say(
      { opcode: 0x10, key: "foo", opaque: 1 },
      { opcode: 0x10, key: "conns", opaque: 2 },
      { opcode: 0x10, key: "detail x", opaque: 3 },
      { opcode: 0x10, key: "detail on", opaque: 4 },
      { opcode: 0x10, key: "detail off", opaque: 5 },
      { opcode: 0x10, key: "sizes", opaque: 6 },
      { opcode: 0x10, key: "reset", opaque: 7 },
      { opcode: 0x10, key: "resetx", opaque: 8 },
      { opcode: 0x10, key: "sizesx", opaque: 9 },
    );
  },
  "bad magic after a good request closes": async (c) => {
    await c.last(
      1000,
      { opcode: 0x0a, opaque: 1 },
      { opcode: 0x0a, magic: 0x81, opaque: 2 },
      { opcode: 0x0a, opaque: 3 },
    );
  },
  "key longer than the body": async (c) => {
    await c.last(1000, { opcode: 0x00, key: "abc", bodyLength: 2, opaque: 1 }, { opcode: 0x0a });
  },
  "key over 250 bytes": async (c) => {
    await c.last(1000, get(0x00, "k".repeat(251), 1), { opcode: 0x0a });
  },
  "quit answers and closes": async (c) => {
    await c.last(1000, { opcode: 0x07, opaque: 1 }, { opcode: 0x0a, opaque: 2 });
  },
  "quitq closes silently": async (c) => {
    await c.last(1000, { opcode: 0x17, opaque: 1 }, { opcode: 0x0a, opaque: 2 });
  },
};

/** Requests whose header does not fit the command: memcached answers EINVAL and hangs up. */
const malformed: Record<string, Request> = {
  "get with extras": { opcode: 0x00, key: "abc", extras: u32(1) },
  "get with a value": { opcode: 0x00, key: "abc", value: "1234" },
  "get without a key": { opcode: 0x00 },
  "noop with a body": { opcode: 0x0a, value: "x" },
  "version with a body": { opcode: 0x0b, value: "x" },
  "quit with a body": { opcode: 0x07, value: "x" },
  "flush with 8 bytes of extras": { opcode: 0x08, extras: setExtras(0, 0) },
  "flush with a key": { opcode: 0x08, key: "k" },
  "incr with short extras": { opcode: 0x05, key: "n", extras: u32(1) },
  "incr with a value": { opcode: 0x05, key: "n", extras: arithExtras(1n, 0n, 0), value: "x" },
  "set without a key": { opcode: 0x01, extras: setExtras(0, 0), value: "x" },
  "set with 4 bytes of extras": { opcode: 0x01, key: "k", extras: u32(0), value: "x" },
  "append with extras": { opcode: 0x0e, key: "k", extras: u32(0), value: "x" },
  "delete with extras": { opcode: 0x04, key: "k", extras: u32(0) },
  "delete with a value": { opcode: 0x04, key: "k", value: "x" },
  "touch without extras": { opcode: 0x1c, key: "k" },
  "gat without a key": { opcode: 0x1d, extras: u32(0) },
  "stat with extras": { opcode: 0x10, extras: u32(0) },
  "sasl list with a body": { opcode: 0x20, value: "x" },
  "sasl auth without a key": { opcode: 0x21, value: "x" },
};
for (const [name, request] of Object.entries(malformed)) {
  cases[`malformed: ${name}`] = (c) =>
    c.last(1000, { ...request, opaque: 1 }, { opcode: 0x0a, opaque: 2 });
}

// Last: a delayed flush changes what the next seconds do on both servers.
cases["flush with a delay keeps items until then"] = async (c) => {
  await c.say(set("f", "x"), { opcode: 0x08, extras: u32(100), opaque: 1 }, get(0x00, "f"));
  await c.say({ opcode: 0x08, opaque: 2 });
};

async function converse(port: number, run: Case): Promise<string[]> {
  const client = await BinaryClient.connect(port);
  try {
    const c = new Conversation(client);
    await c.say({ opcode: 0x08 });
    await run(c);
    return c.transcript;
  } finally {
    client.close();
  }
}

Deno.test("binary protocol answers like memcached", { ignore: NO_MEMCACHED }, async (t) => {
  const real = await startMemcached();
  let ours: Child | null = null;
  try {
    ours = await startOurs();
    for (const [name, run] of Object.entries(cases)) {
      await t.step(name, async () => {
        const expected = await converse(real.port, run);
        const actual = await converse(ours!.port, run);
        assert.ok(expected.length > 1, "memcached said nothing");
        assert.deepEqual(actual, expected);
        if (Deno.env.get("SHOW_TRANSCRIPT")) console.log(name, expected);
      });
    }
  } finally {
    await real.stop();
    await ours?.stop();
  }
});
