/**
 * Torn and damaged files, in process: a small log cut at every byte offset and with every byte
 * flipped, and damaged snapshots, each with the outcome the README documents.
 */
import assert from "node:assert/strict";
import { Clock } from "../../src/clock.ts";
import type { PersistConfig } from "../../src/config.ts";
import { loadFile } from "../../src/persist/load.ts";
import { PersistStartError } from "../../src/persist/start_error.ts";
import { Persistence } from "../../src/persist/persistence.ts";
import { PersistentStore } from "../../src/persist/persistent_store.ts";
import {
  HEADER_BYTES,
  LOG_MAGIC,
  magicBytes,
  RecordBuffer,
  scanRecords,
  SNAPSHOT_MAGIC,
} from "../../src/persist/record.ts";
import { Restorer } from "../../src/persist/restore.ts";
import { RUN_MAIN, startOurs } from "../helpers/server.ts";

const te = (s: string) => new TextEncoder().encode(s);
const clock = new Clock();
const now = clock.now;

function newStore(): PersistentStore {
  return new PersistentStore(clock, {
    maxBytes: 2 << 20,
    itemSizeMax: 1 << 20,
    evict: true,
    casEnabled: true,
  });
}

/** A small log and the offset at which each record ends. */
function sampleLog(): { bytes: Uint8Array; ends: number[] } {
  const steps: ((b: RecordBuffer) => void)[] = [
    (b) => b.put(now, te("a"), te("alpha"), 1, 0, 0, 5, 0),
    (b) => b.put(now, te("b"), te("beta"), 2, now + 1000, 0, 6, 0),
    (b) => b.del(now, te("a")),
    (b) => b.put(now, te("b"), te("beta"), 2, now + 2000, 0, 8, 0),
    (b) => b.put(now, te("c"), te("gamma"), 0, 0, 0, 7, 0),
    (b) => b.flush(now, 0),
    (b) => b.put(now, te("d"), te("delta"), 4, 0, 0, 9, 0),
  ];
  const buf = new RecordBuffer(64);
  buf.bytes.set(magicBytes(LOG_MAGIC));
  buf.length = 8;
  const ends: number[] = [];
  for (const step of steps) {
    step(buf);
    ends.push(buf.length);
  }
  return { bytes: buf.bytes.slice(0, buf.length), ends };
}

function dump(store: PersistentStore): string[] {
  const out: string[] = [];
  store.forEachKey((key, h) => {
    const value = new TextDecoder().decode(store.valueOf(h));
    const k = new TextDecoder().decode(key);
    out.push(`${k}=${value}/${store.flagsOf(h)}/${store.exptimeOf(h)}/${store.casOf(h)}`);
    return true;
  });
  return out.sort();
}

const expectedCache = new Map<number, string[]>();

/** The state the first `count` records of the sample make. */
function expected(log: { bytes: Uint8Array; ends: number[] }, count: number): string[] {
  if (!expectedCache.has(count)) expectedCache.set(count, replayed(log, count));
  return expectedCache.get(count)!;
}

function replayed(log: { bytes: Uint8Array; ends: number[] }, count: number): string[] {
  const store = newStore();
  const part = log.bytes.slice(0, count === 0 ? 8 : log.ends[count - 1]);
  const scan = scanRecords(part, LOG_MAGIC);
  assert.ok(scan !== "bad magic" && scan.ending === "clean");
  const r = new Restorer(store);
  r.log(part, scan);
  r.finish();
  return dump(store);
}

const config = (dir: string, repair = false): PersistConfig => ({
  snapshotPath: null,
  logDir: dir,
  fsync: "no",
  repair,
  rewriteBytes: 1 << 20,
});

/** Loads `file` as a log: the state and where appending would go on, or the refusal. */
async function loadLog(
  file: Uint8Array,
  repair = false,
): Promise<{ state: string[]; size: number } | PersistStartError> {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeFile(path, file);
    const store = newStore();
    const restorer = new Restorer(store);
    let size: number;
    try {
      size = loadFile(path, LOG_MAGIC, restorer, repair) ?? 0;
    } catch (err) {
      if (err instanceof PersistStartError) return err;
      throw err;
    }
    restorer.finish();
    return { state: dump(store), size };
  } finally {
    await Deno.remove(path);
  }
}

/** Starts persistence on a directory holding `file` as its log; the state and the log's size. */
async function startOn(file: Uint8Array): Promise<{ state: string[]; size: number }> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/log.0`, file);
    const store = newStore();
    const p = Persistence.start(store, config(dir));
    const state = dump(store);
    const size = (await Deno.stat(`${dir}/log.0`)).size;
    await p.stop();
    return { state, size };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a log cut at every byte offset keeps exactly its whole records and is cut there", async () => {
  const log = sampleLog();
  for (let cut = 0; cut < log.bytes.length; cut++) {
    const whole = log.ends.filter((e) => e <= cut).length;
    const got = await loadLog(log.bytes.slice(0, cut));
    assert.ok(!(got instanceof PersistStartError), `cut at ${cut}: ${got}`);
    assert.deepEqual(got.state, expected(log, whole), `cut at ${cut}`);
    assert.equal(got.size, whole === 0 ? (cut < 8 ? 0 : 8) : log.ends[whole - 1], `cut at ${cut}`);
  }
  // Started for real, the log file itself is cut there.
  for (const cut of [3, log.ends[2] + 5, log.bytes.length - 1]) {
    const got = await startOn(log.bytes.slice(0, cut));
    const whole = log.ends.filter((e) => e <= cut).length;
    assert.deepEqual(got.state, expected(log, whole));
    assert.equal(got.size, whole === 0 ? 8 : log.ends[whole - 1], `cut at ${cut}: file size`);
  }
});

Deno.test("a flipped byte: damage before the last record stops start-up, the last record is cut", async () => {
  const log = sampleLog();
  const last = log.ends.length - 1;
  const lastStart = log.ends[last - 1];
  for (let at = 0; at < log.bytes.length; at++) {
    const file = log.bytes.slice();
    file[at] ^= 0xff;
    const got = await loadLog(file);
    // In the last record only its check (CRC) or body can be told from a torn write.
    const torn = at >= lastStart + 8;
    if (torn) {
      assert.ok(!(got instanceof PersistStartError), `flip at ${at}: ${got}`);
      assert.deepEqual(got.state, expected(log, last), `flip at ${at}`);
    } else {
      assert.ok(got instanceof PersistStartError, `flip at ${at} must stop start-up`);
      assert.match(got.message, / (is damaged at byte \d+ |is not a log file)/);
      const repaired = await loadLog(file, true);
      assert.ok(!(repaired instanceof PersistStartError));
      const before = at < 8 ? 0 : log.ends.filter((e) => e <= at).length;
      assert.deepEqual(repaired.state, expected(log, before), `repair after flip at ${at}`);
    }
  }
});

Deno.test("zeros after the last record (an extended file never written) are a torn tail", async () => {
  const log = sampleLog();
  const file = new Uint8Array(log.bytes.length + 100);
  file.set(log.bytes);
  const got = await startOn(file);
  assert.deepEqual(got.state, expected(log, log.ends.length));
  assert.equal(got.size, log.bytes.length);
});

Deno.test("a damaged or cut snapshot stops start-up unless --persist-repair", async () => {
  const store = newStore();
  for (let i = 0; i < 10; i++) store.store("set", te(`k${i}`), te(`v${i}`), i, 0);
  const dir = await Deno.makeTempDir();
  const path = `${dir}/snap`;
  const p = Persistence.start(newStore(), { ...config(dir), logDir: null, snapshotPath: path });
  await p.stop();
  const empty = await Deno.readFile(path);
  assert.equal(empty.length, SNAPSHOT_MAGIC.length);
  const full = new RecordBuffer();
  store.forEachKey((key, h) => {
    full.put(now, key, store.valueOf(h), store.flagsOf(h), 0, 0, store.casTagOf(h), 0);
    return true;
  });
  const bytes = new Uint8Array([...empty, ...full.take()]);
  const recordBytes = HEADER_BYTES + 23 + 2 + 2;
  for (const damage of ["cut", "flip"]) {
    const file = damage === "cut" ? bytes.slice(0, bytes.length - 3) : bytes.slice();
    if (damage === "flip") file[8 + recordBytes * 4 + 20] ^= 1;
    await Deno.writeFile(path, file);
    const opts = { ...config(dir), logDir: null, snapshotPath: path };
    assert.throws(() => Persistence.start(newStore(), opts), PersistStartError, damage);
    const restored = newStore();
    const repaired = Persistence.start(restored, { ...opts, repair: true });
    assert.equal(restored.currItems, damage === "cut" ? 9 : 4, damage);
    await repaired.stop();
  }
  await Deno.remove(dir, { recursive: true });
});

function runServer(args: string[]): Promise<Deno.CommandOutput> {
  return new Deno.Command(Deno.execPath(), {
    args: [...RUN_MAIN, "-p", "0", "--http-port", "0", ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(15000),
  }).output();
}

Deno.test("the server refuses a damaged log with one line and exit 65; a repair makes it whole", async () => {
  const dir = await Deno.makeTempDir();
  const file = sampleLog().bytes;
  file[20] ^= 0xff;
  await Deno.writeFile(`${dir}/log.0`, file);
  const refused = await runServer(["--persist-log", dir]);
  assert.equal(refused.code, 65);
  const stderr = new TextDecoder().decode(refused.stderr);
  assert.match(stderr, /^error: .*log\.0 is damaged at byte 8 .*--persist-repair.*\n$/);

  const repaired = await startOurs(["--persist-log", dir, "--persist-repair"]);
  await repaired.waitForOutput(/damaged at byte 8/);
  await repaired.stop();
  const again = await startOurs(["--persist-log", dir]);
  await again.stop();
  assert.doesNotMatch(again.output(), /damaged|torn/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a log path that cannot be used stops start-up with one line and exit 65", async () => {
  const file = await Deno.makeTempFile();
  const refused = await runServer(["--persist-log", file]);
  assert.equal(refused.code, 65);
  assert.match(new TextDecoder().decode(refused.stderr), /^error: cannot use .*\n$/);
  await Deno.remove(file);
});
