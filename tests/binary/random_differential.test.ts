/**
 * Seeded random binary-protocol conversations, sent to the real memcached and to this server and
 * compared packet by packet. Each request is followed by a noop and read up to its answer, so
 * neither server's batching matters; nothing expires and nothing is flushed, so the clock does not
 * either. memcached runs without its LRU maintainer (see text_random_differential.test.ts).
 */
import assert from "node:assert/strict";
import {
  arithExtras,
  BinaryClient,
  concat,
  packet,
  type Request,
  setExtras,
  u32,
} from "../helpers/binary.ts";
import { cutPoints, generator, sendInPieces } from "../helpers/random.ts";
import { Op } from "../../src/protocol/binary/wire.ts";
import { NO_MEMCACHED } from "../helpers/server.ts";
import { QUIET_MEMCACHED, withBoth } from "../helpers/differential.ts";

const SEEDS = [1, 2, 3, 4];
const REQUESTS_PER_SEED = 300;
const KEYS = ["a", "b", "n", "k".repeat(250)];
const SENTINEL = 0xfeedface;
const NOOP = Op.NOOP;

/** The sentinel noop's answer: header fields all zero but magic, opcode and opaque. */
const NOOP_ANSWER = "\x81\x0a" + "\x00".repeat(10) + "\xfe\xed\xfa\xce" + "\x00".repeat(8);

/** A request; `cas: -1n` stands for the CAS this server last showed for the key. */
function randomRequest(pick: (n: number) => number): Request {
  const key = KEYS[pick(KEYS.length)];
  const value = ["", "12", "18446744073709551615", "v".repeat(pick(40))][pick(4)];
  const flags = [0, 1, 0xffffffff][pick(3)];
  const cas = [0n, 0n, -1n, 12345n][pick(4)];
  const opaque = pick(1000);
  switch (pick(12)) {
    case 0:
    case 1: {
      const opcode = [Op.SET, Op.SETQ, Op.ADD, Op.ADDQ, Op.REPLACE][pick(5)];
      return { opcode, key, extras: setExtras(flags, [0, 1000][pick(2)]), value, cas, opaque };
    }
    case 2:
      return { opcode: [Op.APPEND, Op.PREPEND][pick(2)], key, value, cas, opaque };
    case 3:
    case 4:
      return { opcode: [Op.GET, Op.GETQ, Op.GETK, Op.GETKQ][pick(4)], key, opaque };
    case 5:
      return { opcode: [Op.DELETE, Op.DELETEQ][pick(2)], key, cas, opaque };
    case 6:
    case 7: {
      const delta = [1n, 0n, 18446744073709551615n, 7n][pick(4)];
      const initial = [0n, 5n, 18446744073709551615n][pick(3)];
      // 0xffffffff: fail rather than create a missing key.
      const exptime = [0, 0xffffffff, 1000][pick(3)];
      const opcode = [Op.INCREMENT, Op.DECREMENT, Op.INCREMENTQ][pick(3)];
      return { opcode, key, extras: arithExtras(delta, initial, exptime), cas, opaque };
    }
    case 8:
      return { opcode: [Op.TOUCH, Op.GAT, Op.GATK][pick(3)], key, extras: u32(1000), opaque };
    case 9:
      // Malformed: a set without its extras, a get with a value.
      return pick(2) === 0
        ? { opcode: Op.SET, key, value, opaque }
        : { opcode: Op.GET, key, value: "x", opaque };
    case 10:
      // An unknown opcode, without a body: memcached holds the answer to one with a body until
      // that many more bytes have arrived and been swallowed.
      return { opcode: 0x45, opaque };
    default:
      return { opcode: NOOP, opaque };
  }
}

/**
 * Sends each request followed by a noop; writes down the packets answered up to the noop's, or
 * that the server hung up (then it reconnects, as a client would).
 */
async function converse(port: number, requests: Request[]): Promise<string[]> {
  let client = await BinaryClient.connect(port);
  const lastCas = new Map<string, bigint>();
  const transcript: string[] = [];
  try {
    for (const r of requests) {
      const key = typeof r.key === "string" ? r.key : "";
      const request = r.cas === -1n ? { ...r, cas: lastCas.get(key) ?? 1n } : r;
      await client.send(request, { opcode: NOOP, opaque: SENTINEL });
      const { packets } = await client.readUntil(
        (got) => got.some((p) => p.opaque === SENTINEL),
        3000,
      );
      for (const p of packets) if (p.cas !== 0n && key !== "") lastCas.set(key, p.cas);
      let entry = JSON.stringify(packets, (_, v) => typeof v === "bigint" ? String(v) : v);
      if (!packets.some((p) => p.opaque === SENTINEL)) {
        entry += " (hung up)";
        client.close();
        client = await BinaryClient.connect(port);
      }
      transcript.push(entry);
    }
  } finally {
    client.close();
  }
  return transcript;
}

Deno.test("random binary conversations get memcached's answers, packet for packet", {
  ignore: NO_MEMCACHED,
}, async () => {
  for (const seed of SEEDS) {
    await withBoth(QUIET_MEMCACHED, async (real, ours) => {
      const pick = generator(seed);
      const requests = Array.from({ length: REQUESTS_PER_SEED }, () => randomRequest(pick));
      const expected = await converse(real.port, requests);
      const actual = await converse(ours.port, requests);
      for (let i = 0; i < requests.length; i++) {
        const r = requests[i];
        const at = `seed ${seed}, request ${i}: opcode 0x${r.opcode.toString(16)}, ` +
          `key ${String(r.key).slice(0, 20)}, value ${JSON.stringify(r.value)}, cas ${r.cas}`;
        assert.equal(actual[i], expected[i], at);
      }
    });
  }
});

Deno.test("the same random binary requests pipelined, cut at random places, get the same bytes", {
  ignore: NO_MEMCACHED,
}, async () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
    await withBoth(QUIET_MEMCACHED, async (real, ours) => {
      const pick = generator(seed);
      // Without the malformed ones, which hang up and would end the stream early, and without
      // incr/decr: whether one meets an item an earlier answer still holds depends on where
      // memcached's reads happened to end.
      const requests = Array.from({ length: REQUESTS_PER_SEED }, () => randomRequest(pick))
        .filter((r) => r.value !== "x" && !(r.opcode === Op.SET && r.extras === undefined))
        .filter((r) =>
          !([Op.INCREMENT, Op.DECREMENT, Op.INCREMENTQ] as number[]).includes(r.opcode)
        )
        .map((r) => (r.cas === -1n ? { ...r, cas: 1n } : r));
      const stream = concat(
        ...requests.map(packet),
        packet({ opcode: NOOP, opaque: SENTINEL }),
      );
      const cuts = cutPoints(pick, stream.length, 400);
      const done = (t: string) => t.includes(NOOP_ANSWER);
      const expected = await sendInPieces(real.port, stream, cuts, done);
      const actual = await sendInPieces(ours.port, stream, cuts, done);
      assert.ok(expected.endsWith(NOOP_ANSWER), "memcached answered the whole stream");
      assert.equal(actual, expected, `seed ${seed}`);
    });
  }
});
