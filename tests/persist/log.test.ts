/** The log's order and durability when a flush and a switch to a new file are both waiting. */
import assert from "node:assert/strict";
import { Clock } from "../../src/clock.ts";
import { AppendLog } from "../../src/persist/log.ts";
import { PersistentStore } from "../../src/persist/persistent_store.ts";
import { LOG_MAGIC, scanRecords } from "../../src/persist/record.ts";
import { Restorer } from "../../src/persist/restore.ts";
import { PersistStats } from "../../src/persist/stats.ts";

const te = (s: string) => new TextEncoder().encode(s);
const options = { maxBytes: 2 << 20, itemSizeMax: 1 << 20, evict: true, casEnabled: true };

Deno.test("a switch to a new log keeps changes in order behind a flush queued before it", async () => {
  const dir = await Deno.makeTempDir();
  const clock = new Clock();
  const store = new PersistentStore(clock, options);
  const log = AppendLog.open(`${dir}/log.0`, 0, "always", new PersistStats(), (err) => {
    throw err;
  });
  store.appendLog = log;
  store.store("set", te("k"), te("first"), 0, 0);
  const flushed = log.flush(true);
  const rotated = log.rotate(`${dir}/log.1`);
  store.store("set", te("k"), te("second"), 0, 0);
  const wait = log.durable();
  await Promise.all([flushed, rotated, wait]);
  await log.close();

  const replayed = new PersistentStore(clock, options);
  const restorer = new Restorer(replayed);
  for (const name of ["log.0", "log.1"]) {
    const file = await Deno.readFile(`${dir}/${name}`);
    const scan = scanRecords(file, LOG_MAGIC);
    assert.ok(scan !== "bad magic" && scan.ending === "clean");
    restorer.log(file, scan);
  }
  restorer.finish();
  assert.equal(new TextDecoder().decode(replayed.valueOf(replayed.peek(te("k")))), "second");
  assert.equal(log.durable(), null, "everything acknowledged is on disk");
  await Deno.remove(dir, { recursive: true });
});
