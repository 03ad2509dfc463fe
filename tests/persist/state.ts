/**
 * One scripted set of changes over every door, and the check that a restarted server holds exactly
 * their result: flags, CAS, expiry, deleted, incr'd, appended and flushed items.
 */
import assert from "node:assert/strict";
import { BinaryClient, setExtras } from "../helpers/binary.ts";
import { RawClient } from "../helpers/client.ts";
import { call, httpReady } from "../helpers/http.ts";
import type { Child } from "../helpers/server.ts";

export interface Written {
  /** CAS of `a` after its append, and the largest CAS handed out. */
  casA: string;
  maxCas: bigint;
  /** performance.now() when `short` (ttl 1) was set. */
  shortAt: number;
}

const SET = 0x01;
const GET = 0x00;

export async function writeState(server: Child): Promise<Written> {
  const mc = await RawClient.connect(server.port);
  try {
    const shortAt = performance.now();
    assert.equal(await mc.call("set short 0 1 1\r\ns\r\n"), "STORED\r\n");
    assert.equal(await mc.call("set a 5 0 3\r\nabc\r\n"), "STORED\r\n");
    assert.equal(await mc.call("append a 0 0 2\r\nde\r\n"), "STORED\r\n");
    assert.equal(await mc.call("set n 3 0 1\r\n5\r\n"), "STORED\r\n");
    assert.equal(await mc.call("incr n 10\r\n"), "15\r\n");
    assert.equal(await mc.call("set gone 0 0 1\r\ng\r\n"), "STORED\r\n");
    assert.equal(await mc.call("delete gone\r\n"), "DELETED\r\n");
    assert.equal(await mc.call("set long 0 1000 4\r\nlong\r\n"), "STORED\r\n");
    assert.equal(await mc.call("set touched 0 1 1\r\nt\r\n"), "STORED\r\n");
    assert.equal(await mc.call("touch touched 1000\r\n"), "TOUCHED\r\n");
    assert.equal(await mc.call("ms meta 2 F7 T0\r\nmm\r\n"), "HD\r\n");
    const bin = await BinaryClient.connect(server.port);
    const [r] = await bin.call(1, {
      opcode: SET,
      key: "bin",
      extras: setExtras(77, 0),
      value: "B!",
    });
    assert.equal(r.status, 0);
    bin.close();
    const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
    assert.equal(
      (await call("PUT", `${base}/keys/web?flags=9`, { body: "from http" })).status,
      204,
    );
    const got = await mc.call("gets a n long touched meta bin web\r\n", "END\r\n");
    const cases = [...got.matchAll(/^VALUE \S+ \d+ \d+ (\d+)\r$/gm)].map((m) => BigInt(m[1]));
    const casA = /^VALUE a 5 5 (\d+)\r$/m.exec(got)![1];
    return { casA, maxCas: cases.reduce((x, y) => (x > y ? x : y)), shortAt };
  } finally {
    mc.close();
  }
}

/**
 * Waits until the ttl 1 of `short` and of `touched` before its touch has passed: a restart after
 * this must drop the one and keep the other.
 */
export async function waitOutShortTtl(written: Written): Promise<void> {
  const wait = written.shortAt + 2100 - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
}

/** Checks the restarted server; with `expiry`, that `short` expired (see waitOutShortTtl). */
export async function checkState(server: Child, written: Written, expiry: boolean): Promise<void> {
  const mc = await RawClient.connect(server.port);
  try {
    const got = await mc.call("gets a n gone short long touched meta\r\n", "END\r\n");
    assert.match(got, new RegExp(`^VALUE a 5 5 ${written.casA}\r\nabcde\r\n`));
    assert.match(got, /VALUE n 3 2 \d+\r\n15\r\n/);
    assert.doesNotMatch(got, expiry ? /VALUE (gone|short) / : /VALUE gone /);
    assert.match(got, /VALUE long 0 4 \d+\r\nlong\r\n/);
    assert.match(got, /VALUE touched 0 1 \d+\r\nt\r\n/);
    assert.match(got, /VALUE meta 7 2 \d+\r\nmm\r\n/);
    const ttl = await mc.call("mg long t\r\n");
    const left = Number(/t(\d+)/.exec(ttl)![1]);
    assert.ok(left > 990 && left <= 1000, `long keeps its absolute expiry: ${ttl}`);
    const bin = await BinaryClient.connect(server.port);
    const [r] = await bin.call(1, { opcode: GET, key: "bin" });
    assert.equal(r.status, 0);
    assert.equal(r.value, "B!");
    assert.equal(new DataView(r.extras.buffer, r.extras.byteOffset).getUint32(0), 77);
    bin.close();
    const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
    const web = await call("GET", `${base}/keys/web`);
    assert.equal(web.status, 200);
    assert.equal(web.text, "from http");
    assert.equal(web.headers.get("x-memcached-flags"), "9");
    const stats = await mc.call("stats persistence\r\n", "END\r\n");
    assert.match(stats, /STAT persist_items_restored [78]\r\n/);
    assert.equal(await mc.call("set fresh 0 0 1\r\nf\r\n"), "STORED\r\n");
    const fresh = await mc.call("gets fresh\r\n", "END\r\n");
    const cas = BigInt(/VALUE fresh 0 1 (\d+)/.exec(fresh)![1]);
    assert.ok(cas > written.maxCas, `new CAS ${cas} continues above ${written.maxCas}`);
  } finally {
    mc.close();
  }
}
