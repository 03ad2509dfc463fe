/**
 * The shared log: two threads' stores over one memory (run here one after the other, as the lock
 * makes them) append to one buffer, so the file keeps their changes in the order they were made,
 * also across a switch to a new file; a reply's wait covers what another thread wrote.
 */
import assert from "node:assert/strict";
import { Clock } from "../../src/clock.ts";
import { AppendLog } from "../../src/persist/log.ts";
import { PersistentStore } from "../../src/persist/persistent_store.ts";
import { LOG_MAGIC, scanRecords } from "../../src/persist/record.ts";
import { Restorer } from "../../src/persist/restore.ts";
import { PersistStats } from "../../src/persist/stats.ts";

const te = (s: string) => new TextEncoder().encode(s);
const td = new TextDecoder();
const options = { maxBytes: 64 << 20, itemSizeMax: 1 << 20, evict: true, casEnabled: true };
const fail = (err: unknown) => {
  throw err;
};

function replay(dir: string, names: string[]): PersistentStore {
  const replayed = new PersistentStore(new Clock(), options);
  const restorer = new Restorer(replayed);
  for (const name of names) {
    const file = Deno.readFileSync(`${dir}/${name}`);
    const scan = scanRecords(file, LOG_MAGIC);
    assert.ok(scan !== "bad magic" && scan.ending === "clean", name);
    restorer.log(file, scan);
  }
  restorer.finish();
  return replayed;
}

const value = (s: PersistentStore, key: string) => td.decode(s.valueOf(s.peek(te(key))));

for (const mode of ["always", "everysec", "no"] as const) {
  Deno.test(`two threads' changes reach the log in the order made, across a switch (${mode})`, async () => {
    const dir = await Deno.makeTempDir();
    const clock = new Clock();
    const first = new PersistentStore(clock, options);
    const second = new PersistentStore(clock, options, {
      buffers: first.memory.buffers,
      worker: 1,
    });
    const stats = new PersistStats();
    const a = AppendLog.open(first, dir, 0, 0, mode, stats, fail);
    const b = AppendLog.attach(second, dir, mode, stats, fail);
    first.appendLog = a;
    second.appendLog = b;
    const set = (s: PersistentStore, v: string) => {
      assert.equal(s.store("set", te("k"), te(v), 0, 0), "stored");
      s.store("set", te(`only-${v}`), te(v), 0, 0);
      s.release();
    };
    set(first, "1");
    set(second, "2");
    set(first, "3");
    await a.rotate(1);
    set(second, "4");
    set(first, "5");
    set(second, "6");
    if (mode === "always") {
      assert.notEqual(a.durable(), null, "written, not yet synced");
      await a.durable();
      assert.equal(b.durable(), null, "one thread's fsync covers the other's records");
    }
    await b.detach();
    await a.close();
    const before = replay(dir, ["log.0"]);
    assert.equal(value(before, "k"), "3");
    assert.equal(before.peek(te("only-4")), -1);
    const after = replay(dir, ["log.0", "log.1"]);
    assert.equal(value(after, "k"), "6");
    for (const v of ["1", "2", "3", "4", "5", "6"]) assert.equal(value(after, `only-${v}`), v);
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("a buffer that fills is written out in order, records of up to the item size max", async () => {
  const dir = await Deno.makeTempDir();
  const store = new PersistentStore(new Clock(), options);
  const log = AppendLog.open(store, dir, 0, 0, "no", new PersistStats(), fail);
  store.appendLog = log;
  const big = "v".repeat(options.itemSizeMax - 100);
  for (let i = 0; i < 5; i++) store.store("set", te(`big${i}`), te(big + i), 0, 0);
  store.store("set", te("big0"), te("last"), 0, 0);
  store.release();
  await log.close();
  const replayed = replay(dir, ["log.0"]);
  assert.equal(value(replayed, "big0"), "last");
  for (let i = 1; i < 5; i++) assert.ok(value(replayed, `big${i}`) === big + i, `big${i}`);
  await Deno.remove(dir, { recursive: true });
});
