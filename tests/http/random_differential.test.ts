/**
 * The HTTP door keeps memcached's semantics. A seeded random sequence of operations goes to the
 * real memcached over the text protocol, and to this server half over HTTP and half over the text
 * protocol. Every outcome must match, and at the end so must the `stats` counters: an HTTP request
 * counts as the memcached command it stands for.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { readCounters } from "../helpers/stats.ts";
import { call, httpReady } from "../helpers/http.ts";
import { generator } from "../helpers/random.ts";
import { NO_MEMCACHED } from "../helpers/server.ts";
import { QUIET_MEMCACHED, withBoth } from "../helpers/differential.ts";

const SEEDS = [1, 2, 3];
const OPERATIONS_PER_SEED = 300;
const KEYS = ["a", "b", "n", "caf\u00e9"];

interface Operation {
  op:
    | "set"
    | "add"
    | "replace"
    | "append"
    | "prepend"
    | "delete"
    | "incr"
    | "decr"
    | "touch"
    | "get";
  key: string;
  value: string;
  flags: number;
  ttl: number;
  delta: string;
}

function randomOperation(pick: (n: number) => number): Operation {
  const ops: Operation["op"][] = [
    "set",
    "set",
    "add",
    "replace",
    "append",
    "prepend",
    "delete",
    "incr",
    "decr",
    "touch",
    "get",
    "get",
    "get",
  ];
  return {
    op: ops[pick(ops.length)],
    key: KEYS[pick(KEYS.length)],
    value: ["7", "18446744073709551615", "", "text", "x".repeat(pick(50))][pick(5)],
    flags: [0, 5, 4294967295][pick(3)],
    ttl: [0, 1000][pick(2)],
    delta: ["1", "0", "18446744073709551615", "3"][pick(4)],
  };
}

const utf8 = (s: string) => new TextEncoder().encode(s);
/** The key as the text protocol carries it: its UTF-8 bytes, one char per byte. */
const wireKey = (k: string) => String.fromCharCode(...utf8(k));

/** The operation over the text protocol, its answer reduced to an outcome. */
async function overText(c: RawClient, o: Operation): Promise<string> {
  const k = wireKey(o.key);
  const value = wireKey(o.value);
  const storage = (verb: string) =>
    `${verb} ${k} ${o.flags} ${o.ttl} ${utf8(o.value).length}\r\n${value}\r\n`;
  switch (o.op) {
    case "set":
    case "add":
    case "replace":
    case "append":
    case "prepend":
      return (await c.call(storage(o.op))).trim();
    case "delete":
      return (await c.call(`delete ${k}\r\n`)).trim();
    case "incr":
    case "decr": {
      const answer = (await c.call(`${o.op} ${k} ${o.delta}\r\n`)).trim();
      return answer.startsWith("CLIENT_ERROR") ? "NON_NUMERIC" : answer;
    }
    case "touch":
      return (await c.call(`touch ${k} ${o.ttl}\r\n`)).trim();
    case "get": {
      const answer = await c.call(`get ${k}\r\n`, "END\r\n");
      const m = /^VALUE \S+ (\d+) (\d+)\r\n/.exec(answer);
      if (m === null) return "NOT_FOUND";
      const start = m[0].length;
      return `VALUE flags=${m[1]} ${JSON.stringify(answer.slice(start, start + Number(m[2])))}`;
    }
  }
}

/** The same operation over HTTP, reduced to the outcome the text protocol would have given. */
async function overHttp(base: string, o: Operation): Promise<string> {
  const url = `${base}/keys/${encodeURIComponent(o.key)}`;
  switch (o.op) {
    case "set":
    case "add":
    case "replace": {
      const headers: Record<string, string> = {};
      if (o.op === "add") headers["if-none-match"] = "*";
      if (o.op === "replace") headers["if-match"] = "*";
      const r = await call("PUT", `${url}?flags=${o.flags}&ttl=${o.ttl}`, {
        body: utf8(o.value),
        headers,
      });
      return r.status < 300 ? "STORED" : r.status === 412 ? "NOT_STORED" : `HTTP ${r.status}`;
    }
    case "append":
    case "prepend": {
      const r = await call("POST", `${url}/${o.op}`, { body: utf8(o.value) });
      return r.status < 300 ? "STORED" : r.status === 404 ? "NOT_STORED" : `HTTP ${r.status}`;
    }
    case "delete": {
      const r = await call("DELETE", url);
      return r.status < 300 ? "DELETED" : r.status === 404 ? "NOT_FOUND" : `HTTP ${r.status}`;
    }
    case "incr":
    case "decr": {
      const r = await call("POST", `${url}/${o.op}?by=${o.delta}`);
      if (r.status === 200) return String(JSON.parse(r.text).value);
      return r.status === 404 ? "NOT_FOUND" : r.status === 409 ? "NON_NUMERIC" : `HTTP ${r.status}`;
    }
    case "touch": {
      const r = await call("POST", `${url}/touch?ttl=${o.ttl}`);
      return r.status < 300 ? "TOUCHED" : r.status === 404 ? "NOT_FOUND" : `HTTP ${r.status}`;
    }
    case "get": {
      const r = await call("GET", url);
      if (r.status === 404) return "NOT_FOUND";
      if (r.status !== 200) return `HTTP ${r.status}`;
      const body = String.fromCharCode(...r.bytes);
      return `VALUE flags=${r.headers.get("x-memcached-flags")} ${JSON.stringify(body)}`;
    }
  }
}

Deno.test("HTTP and memcached requests mixed at random keep memcached's outcomes and counters", {
  ignore: NO_MEMCACHED,
}, async () => {
  for (const seed of SEEDS) {
    await withBoth(QUIET_MEMCACHED, async (real, ours) => {
      const realClient = await RawClient.connect(real.port);
      const ourClient = await RawClient.connect(ours.port);
      try {
        const base = await httpReady(`http://127.0.0.1:${ours.httpPort}`);
        const pick = generator(seed);
        let overHttpCount = 0;
        for (let i = 0; i < OPERATIONS_PER_SEED; i++) {
          const o = randomOperation(pick);
          const viaHttp = pick(2) === 0;
          const expected = await overText(realClient, o);
          const actual = viaHttp ? await overHttp(base, o) : await overText(ourClient, o);
          if (viaHttp) overHttpCount++;
          const at = `seed ${seed}, operation ${i} ${viaHttp ? "over HTTP" : "over text"}: ` +
            JSON.stringify(o);
          assert.equal(actual, expected, at);
        }
        assert.ok(overHttpCount > OPERATIONS_PER_SEED / 3, "enough went over HTTP");
        assert.deepEqual(
          await readCounters(ourClient),
          await readCounters(realClient),
          `seed ${seed}`,
        );
      } finally {
        realClient.close();
        ourClient.close();
      }
    });
  }
});
