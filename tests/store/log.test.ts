/**
 * The store's memory layout with mixed value sizes: what it evicts, what it keeps, and that its
 * answers are the reference store's whenever both still hold the key.
 */
import assert from "node:assert/strict";
import { Clock } from "../../src/clock.ts";
import { itemRows, slabRows } from "../../src/store/classes.ts";
import { Store } from "../../src/store/store.ts";
import type { StoreOptions } from "../../src/store/types.ts";
import { generator } from "../helpers/random.ts";
import { ReferenceStore } from "../helpers/reference_store.ts";

const MiB = 1 << 20;

function options(maxBytes: number, extra: Partial<StoreOptions> = {}): StoreOptions {
  return { maxBytes, itemSizeMax: MiB, evict: true, casEnabled: true, ...extra };
}

function key(name: string): Uint8Array {
  return new TextEncoder().encode(name);
}

/** Stores small items until the first eviction: the store is then full. */
function fillSmall(store: Store, prefix = "s", size = 100): number {
  let i = 0;
  while (store.counters.evictions === 0) {
    assert.equal(store.store("set", key(`${prefix}${i++}`), new Uint8Array(size), 0, 0), "stored");
  }
  return i;
}

Deno.test("a large item evicts about its own size in small items, not a page of them", () => {
  for (const limit of [2 * MiB, 16 * MiB, 64 * MiB]) {
    const store = new Store(new Clock(), options(limit));
    // A steady state of a thousand small items to each large one.
    for (let i = 0; store.counters.evictions === 0 || i % 20_000 !== 0; i++) {
      store.store("set", key(`s${i}`), new Uint8Array(100), 0, 0);
      if (i % 1000 === 0) store.store("set", key(`L${i}`), new Uint8Array(40_000), 0, 0);
    }
    const large = new Uint8Array(40_000).fill(9);
    let worst = 0;
    for (let j = 0; j < 50; j++) {
      const before = store.counters.evictions;
      assert.equal(store.store("set", key(`large${j}`), large, 0, 0), "stored");
      worst = Math.max(worst, store.counters.evictions - before);
    }
    const needed = Math.ceil(store.itemSize(7, 40_000, 0) / store.itemSize(2, 100, 0));
    assert.ok(worst <= needed + 1, `-m ${limit}: evicted ${worst}, needed ${needed}`);
    assert.ok(store.bytes <= limit);
    assert.deepEqual(store.valueOf(store.peek(key("large49"))), large);
  }
});

Deno.test("counted bytes and segments stay within -m under any size mix and overwrites", () => {
  const limit = 8 * MiB;
  const store = new Store(new Clock(), options(limit));
  const pick = generator(3);
  for (let i = 0; i < 30_000; i++) {
    const size = pick(10) < 6 ? pick(400) : pick(10) < 8 ? pick(4096) : pick(200_000);
    const outcome = store.store("set", key(`k${pick(5000)}`), new Uint8Array(size), 0, 0);
    assert.equal(outcome, "stored");
    assert.ok(store.bytes <= limit, `${store.bytes} counted bytes at step ${i}`);
  }
  assert.ok(store.mallocedBytes <= limit, `${store.mallocedBytes} bytes of segments`);
  // Overwrites leave dead bytes in segments until eviction passes them, and 200 KB records leave
  // room unused at segments' ends: with only eight segments that is a third of them at worst.
  assert.ok(store.bytes > 0.6 * limit, `the store holds ${store.bytes}`);
});

Deno.test("memory freed by small items is reused by large ones, and back", () => {
  const limit = 4 * MiB;
  const store = new Store(new Clock(), options(limit));
  fillSmall(store, "s", 50);
  const segments = store.mallocedBytes;
  const large = new Uint8Array(20_000).fill(7);
  for (let i = 0; i < 1000; i++) {
    assert.equal(store.store("set", key(`L${i}`), large, 0, 0), "stored");
  }
  assert.ok(store.bytes > 0.8 * limit, `large items fill the store: ${store.bytes}`);
  for (let i = 0; i < 50_000; i++) store.store("set", key(`t${i}`), new Uint8Array(50), 0, 0);
  assert.ok(store.bytes > 0.8 * limit, `small items fill it again: ${store.bytes}`);
  assert.ok(store.mallocedBytes <= Math.max(segments, limit), "no segment beyond the budget");
  assert.deepEqual(store.valueOf(store.peek(key("t49999"))), new Uint8Array(50));
});

Deno.test("overwriting the oldest item with a bigger value succeeds when the store is full", () => {
  const store = new Store(new Clock(), options(MiB));
  fillSmall(store, "s", 200);
  // After the first eviction, the oldest live item is the next to go.
  let oldest = 0;
  while (store.peek(key(`s${oldest}`)) === -1) oldest++;
  const bigger = new Uint8Array(5000).fill(1);
  assert.equal(store.store("set", key(`s${oldest}`), bigger, 0, 0), "stored");
  assert.deepEqual(store.valueOf(store.peek(key(`s${oldest}`))), bigger);
  assert.equal(store.store("append", key(`s${oldest}`), new Uint8Array(3000), 0, 0), "stored");
  assert.equal(store.valueOf(store.peek(key(`s${oldest}`))).length, 8000);
});

Deno.test("one-hit wonders do not push popular items out", () => {
  const store = new Store(new Clock(), options(4 * MiB));
  const hot = 1000;
  const value = new Uint8Array(1000);
  for (let i = 0; i < hot; i++) store.store("set", key(`hot${i}`), value, 0, 0);
  let hits = 0;
  let scan = 0;
  for (let round = 0; round < 10; round++) {
    for (let i = 0; i < hot; i++) {
      if (store.get(key(`hot${i}`)) !== -1) hits++;
      else store.store("set", key(`hot${i}`), value, 0, 0);
    }
    // Twice the store's size in keys asked for once, between two reads of the popular ones.
    for (let j = 0; j < 8000; j++) store.store("set", key(`once${scan++}`), value, 0, 0);
  }
  assert.ok(hits / (10 * hot) > 0.85, `hit ratio of the popular keys: ${hits / (10 * hot)}`);
});

Deno.test("lowering cache_memlimit evicts down at once; raising it allocates nothing", () => {
  const store = new Store(new Clock(), options(16 * MiB));
  const v = new Uint8Array(1000).fill(3);
  for (let i = 0; i < 20_000; i++) store.store("set", key(`k${i}`), v, 0, 0);
  store.setMaxBytes(8 * MiB);
  assert.ok(store.bytes <= 8 * MiB);
  assert.ok(store.mallocedBytes <= 8 * MiB, `${store.mallocedBytes} bytes of segments`);
  const segments = store.mallocedBytes;
  store.setMaxBytes(1024 * MiB);
  assert.equal(store.mallocedBytes, segments, "nothing allocated by raising the limit");
  const before = store.counters.evictions;
  for (let i = 0; i < 20_000; i++) store.store("set", key(`m${i}`), v, 0, 0);
  assert.equal(store.counters.evictions, before, "20 MB fits under the raised limit");
});

Deno.test("with eviction, answers match the reference store's for every key both hold", () => {
  const clock = new Clock();
  const o = options(200_000);
  const a = new Store(clock, o);
  // The reference never evicts: what this store evicts is dropped from it below.
  const b = new ReferenceStore(clock, options(1 << 30));
  const pick = generator(17);
  const modes = ["set", "add", "replace", "append", "prepend", "cas"] as const;
  for (let step = 0; step < 30_000; step++) {
    const k = key(`k${pick(400)}`);
    // An item this store evicted and the reference did not is gone from both.
    if (a.peek(k) === -1 && b.peek(k) !== -1) b.discard(k);
    const at = `step ${step}`;
    const op = pick(10);
    if (op <= 4) {
      const mode = modes[pick(modes.length)];
      const size = pick(4) === 0 ? pick(20_000) : pick(300);
      const value = new Uint8Array(size).fill(pick(256));
      const h = a.peek(k);
      const cas = mode === "cas" && h !== -1 && pick(2) === 0 ? a.casOf(h) : 0n;
      const ra = a.store(mode, k, value, pick(3), 0, cas);
      const rb = b.store(mode, k, value, b.peek(k) === -1 ? 0 : b.flagsOf(b.peek(k)), 0, 0n);
      if (mode !== "cas") assert.equal(ra, rb, `${at} ${mode} ${size} ${ra} ${rb}`);
      if (ra === "stored") {
        b.discard(k);
        b.store("set", k, a.valueOf(a.peek(k)), a.flagsOf(a.peek(k)), 0);
      }
    } else if (op <= 7) {
      const ha = a.get(k);
      const hb = b.get(k);
      assert.equal(ha === -1, hb === -1, at);
      if (ha !== -1) assert.deepEqual(a.valueOf(ha), b.valueOf(hb), at);
    } else if (op === 8) {
      assert.equal(a.delete(k), b.delete(k), at);
    } else {
      const delta = BigInt(pick(100));
      assert.equal(a.arith(k, true, delta), b.arith(k, true, delta), at);
    }
    assert.ok(a.bytes <= o.maxBytes, at);
  }
  assert.ok(a.counters.evictions > 100, `the run evicted ${a.counters.evictions}`);
});

Deno.test("stats items and slabs report items under memcached's size classes", () => {
  const store = new Store(new Clock(), options(MiB));
  store.store("set", key("a"), new Uint8Array(10), 0, 0);
  store.store("set", key("b"), new Uint8Array(5000), 0, 0);
  const items = Object.fromEntries(itemRows(store.classStats));
  assert.equal(items["items:1:number"], 1, "a small item is in class 1 (96-byte chunks)");
  assert.equal(items["items:1:mem_requested"], store.itemSize(1, 10, 0));
  const big = Object.keys(items).find((k) => k.endsWith(":number") && k !== "items:1:number");
  assert.ok(big !== undefined);
  const slabs = Object.fromEntries(slabRows(store.classStats, store.mallocedBytes));
  assert.equal(slabs["1:chunk_size"], 96);
  assert.equal(slabs["1:used_chunks"], 1);
  assert.equal(slabs.active_slabs, 2);
  fillSmall(store);
  for (let i = 0; i < 10_000; i++) store.store("set", key(`more${i}`), new Uint8Array(100), 0, 0);
  const evicted = itemRows(store.classStats).filter(([k]) => k.endsWith(":evicted"));
  assert.ok(evicted.some(([, n]) => n > 0), "evictions are counted in the class they hit");
});

Deno.test("segments fill up when big and small items mix: the room a big record leaves is used", () => {
  const limit = 32 * MiB;
  const store = new Store(new Clock(), options(limit));
  const pick = generator(5);
  // Log-uniform sizes from 1 B to 500 KB, as memcached's every slab class would see them.
  for (let i = 0; i < 20_000; i++) {
    const size = Math.round(Math.exp((pick(1_000_000) / 1_000_000) * Math.log(500_000)));
    store.store("set", key(`k${i}`), new Uint8Array(size), 0, 0);
  }
  // Item bytes (as memcached counts them, a little more than the record bytes) per segment byte.
  const filled = store.bytes / store.mallocedBytes;
  assert.ok(filled >= 0.9, `segments ${(filled * 100).toFixed(1)}% filled`);
});
