/**
 * The store (item bytes in a segment log, metadata in typed arrays; src/store/log.ts) against the
 * store API's rules: every behavioural test runs on both it and the simple reference store, and a
 * seeded random run compares the two call by call while neither evicts.
 */
import { generator } from "../helpers/random.ts";
import assert from "node:assert/strict";
import { Clock } from "../../src/clock.ts";
import { Cache as CompactStore } from "../../src/store/cache.ts";
import { ReferenceStore } from "../helpers/reference_store.ts";
import { FETCHED, type StoreOptions } from "../../src/store/types.ts";

type AnyStore = CompactStore | ReferenceStore;
const IMPLEMENTATIONS = [
  ["compact", CompactStore],
  ["reference", ReferenceStore],
] as const;

function options(maxBytes: number, extra: Partial<StoreOptions> = {}): StoreOptions {
  return { maxBytes, itemSizeMax: 1 << 20, evict: true, casEnabled: true, ...extra };
}

function bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function text(v: Uint8Array): string {
  let s = "";
  for (const b of v) s += String.fromCharCode(b);
  return s;
}

function valueOfKey(store: AnyStore, key: string): string | null {
  const h = store.peek(bytes(key));
  return h === -1 ? null : text(store.valueOf(h));
}

function both(name: string, fn: (make: (o: StoreOptions) => AnyStore, clock: Clock) => void) {
  for (const [label, Impl] of IMPLEMENTATIONS) {
    Deno.test(`${name} (${label})`, () => {
      const clock = new Clock();
      fn((o) => new Impl(clock, o), clock);
    });
  }
}

both("evicts the oldest unread item first, and a read protects an item", (make) => {
  const store = make(options(1000));
  const size = store.itemSize(2, 100, 0);
  const fits = Math.floor(1000 / size);
  const value = new Uint8Array(100).fill(65);
  for (let i = 0; i < fits; i++) {
    assert.equal(store.store("set", bytes(`k${i}`), value, 0, 0), "stored");
  }
  assert.equal(store.currItems, fits);
  assert.notEqual(store.get(bytes("k0")), -1, "k0 read: now the most recent");
  assert.equal(store.store("set", bytes("kn"), value, 0, 0), "stored");
  assert.equal(store.counters.evictions, 1);
  assert.equal(store.counters.direct_reclaims, 1, "the storing call evicted it itself");
  assert.equal(store.counters.evicted_unfetched, 1, "k1 was never read");
  assert.equal(valueOfKey(store, "k1"), null, "k1 was the oldest unread");
  assert.notEqual(valueOfKey(store, "k0"), null);
  assert.notEqual(valueOfKey(store, "kn"), null);
  assert.equal(store.currItems, fits);
});

both("counts bytes as memcached's ITEM_ntotal and gives them back", (make) => {
  const store = make(options(1 << 20));
  assert.equal(store.store("set", bytes("a"), bytes("12345"), 0, 0), "stored");
  assert.equal(store.store("set", bytes("bb"), bytes("x"), 0, 0), "stored");
  assert.equal(store.bytes, store.itemSize(1, 5, 0) + store.itemSize(2, 1, 0));
  assert.equal(store.itemSize(1, 5, 0), 48 + 1 + 1 + 5 + 2 + 8);
  assert.equal(store.store("set", bytes("a"), new Uint8Array(3000), 0, 0), "stored");
  assert.equal(
    store.bytes,
    store.itemSize(1, 3000, 0) + store.itemSize(2, 1, 0),
    "replace: new size",
  );
  assert.equal(store.store("append", bytes("bb"), bytes("yz"), 0, 0), "stored");
  assert.equal(store.bytes, store.itemSize(1, 3000, 0) + store.itemSize(2, 3, 0));
  assert.equal(store.delete(bytes("a")), "deleted");
  assert.equal(store.bytes, store.itemSize(2, 3, 0));
  // Non-zero client flags take 4 bytes in memcached's item, and leave with it.
  assert.equal(store.itemSize(2, 3, 7), store.itemSize(2, 3, 0) + 4);
  assert.equal(store.store("set", bytes("f"), bytes("x"), 7, 0), "stored");
  assert.equal(store.bytes, store.itemSize(2, 3, 0) + store.itemSize(1, 1, 7));
  assert.equal(store.store("set", bytes("f"), bytes("x"), 0, 0), "stored");
  assert.equal(store.bytes, store.itemSize(2, 3, 0) + store.itemSize(1, 1, 0), "flags now 0");
  assert.equal(store.delete(bytes("f")), "deleted");
  assert.equal(store.currItems, 1);
  store.flush();
  store.sweep(100);
  assert.equal(store.bytes, 0);
  assert.equal(store.currItems, 0);
});

both(
  "flush_all now flushes items where they lie, met as get_flushed, as memcached does",
  (make, clock) => {
    const store = make(options(100_000));
    assert.equal(store.store("set", bytes("a"), bytes("1"), 0, 0), "stored");
    store.flush();
    // Stored after the flush in the same second: alive, for CAS orders them.
    assert.equal(store.store("set", bytes("b"), bytes("2"), 0, 0), "stored");
    assert.equal(store.currItems, 2, "the flushed item is still counted until reclaimed");
    assert.equal(store.get(bytes("a")), -1);
    assert.equal(store.counters.get_flushed, 1);
    assert.notEqual(store.get(bytes("b")), -1);
    clock.advance(1);
    assert.notEqual(store.get(bytes("b")), -1, "a second later it is still alive");
    assert.equal(store.currItems, 1);
  },
);

both("without CAS (-C), flush_all also flushes what the same second stores after it", (make) => {
  const store = make({ ...options(100_000), casEnabled: false });
  store.store("set", bytes("a"), bytes("1"), 0, 0);
  store.flush();
  store.store("set", bytes("b"), bytes("2"), 0, 0);
  assert.equal(store.get(bytes("b")), -1, "memcached's oldest_live covers the whole second");
  assert.equal(store.counters.get_flushed, 1);
});

both("with -M, flush_all frees the memory at once (no write may evict to reclaim it)", (make) => {
  const store = make({ ...options(100_000), evict: false });
  store.store("set", bytes("a"), bytes("1"), 0, 0);
  store.flush();
  assert.equal(store.currItems, 0);
  assert.equal(store.bytes, 0);
});

both("keeps to -m: no more counted bytes than the limit, however much is stored", (make) => {
  const limit = 200_000;
  const store = make(options(limit));
  for (let i = 0; i < 5000; i++) {
    const v = new Uint8Array(1 + (i * 37) % 700).fill(i & 0xff);
    assert.equal(store.store("set", bytes(`key:${i}`), v, 0, 0), "stored");
    assert.ok(store.bytes <= limit);
  }
  assert.ok(store.counters.evictions > 0);
  for (let i = 4990; i < 5000; i++) {
    const h = store.peek(bytes(`key:${i}`));
    assert.notEqual(h, -1, "the newest items are there");
    const v = store.valueOf(h);
    assert.equal(v.length, 1 + (i * 37) % 700);
    assert.ok(v.every((b) => b === (i & 0xff)));
  }
});

both("stores an item exactly at the size limit and refuses one byte more", (make) => {
  const store = make(options(8 << 20, { itemSizeMax: 1 << 20 }));
  const key = bytes("big");
  const max = (1 << 20) - store.itemSize(3, 0, 0);
  const value = new Uint8Array(max);
  for (let i = 0; i < max; i++) value[i] = (i * 7) & 0xff;
  assert.equal(store.tooLarge(3, max, 0), false);
  assert.equal(store.tooLarge(3, max + 1, 0), true);
  assert.equal(store.tooLarge(3, max, 1), true, "non-zero flags take 4 of the bytes");
  assert.equal(store.tooLarge(3, max - 4, 1), false);
  assert.equal(store.store("set", key, value, 0, 0), "stored");
  assert.equal(store.store("set", bytes("big2"), value, 0, 0), "too_large");
  assert.equal(store.store("append", key, bytes("x"), 0, 0), "too_large");
  const h = store.get(key);
  assert.deepEqual(store.valueOf(h), value);
  assert.equal(store.bytes, 1 << 20);
});

both("-M: a full cache refuses stores instead of evicting", (make) => {
  const store = make(options(2000, { evict: false }));
  const v = new Uint8Array(500);
  assert.equal(store.store("set", bytes("a"), v, 0, 0), "stored");
  assert.equal(store.store("set", bytes("b"), v, 0, 0), "stored");
  assert.equal(store.store("set", bytes("c"), v, 0, 0), "stored");
  assert.equal(store.store("set", bytes("d"), v, 0, 0), "no_memory");
  assert.equal(store.counters.evictions, 0);
  assert.equal(store.counters.store_no_memory, 1);
  assert.equal(store.delete(bytes("a")), "deleted");
  assert.equal(store.store("set", bytes("d"), v, 0, 0), "stored", "freed space is reused");
});

both("keys are bytes: distinct keys with equal hashes of their text stay apart", (make) => {
  const store = make(options(1 << 20));
  const keys = ["a", "b", "ab", "ba", "\u00ff", "\u00ff\u00ff", "x".repeat(250)];
  keys.forEach((k, i) => store.store("set", bytes(k), bytes(`v${i}`), i, 0));
  keys.forEach((k, i) => {
    const h = store.get(bytes(k));
    assert.equal(text(store.valueOf(h)), `v${i}`);
    assert.equal(store.flagsOf(h), i);
    assert.equal(text(store.keyOf(h)), k);
  });
});

both("incr in place pads with spaces; a longer result moves the item", (make) => {
  const store = make(options(1 << 20));
  store.store("set", bytes("n"), bytes("100"), 3, 0);
  assert.equal(store.arith(bytes("n"), false, 95n), "ok");
  assert.equal(valueOfKey(store, "n"), "5  ");
  assert.equal(store.arith(bytes("n"), true, 99_999n), "ok");
  assert.equal(valueOfKey(store, "n"), "100004");
  assert.equal(store.flagsOf(store.peek(bytes("n"))), 3);
  assert.equal(store.arith(bytes("n"), true, 18446744073709551615n), "ok");
  assert.equal(store.lastNumber, 100003n, "incr wraps at 2^64");
});

both("cas values are 64-bit and survive as given", (make) => {
  const store = make(options(1 << 20));
  const big = (1n << 63n) + 12345n;
  assert.equal(store.store("set", bytes("c"), bytes("1"), 0, 0, 0n, big), "stored");
  assert.equal(store.lastCas, big);
  const h = store.get(bytes("c"));
  assert.equal(store.casOf(h), big);
  assert.equal(store.store("cas", bytes("c"), bytes("2"), 0, 0, big), "stored");
  const next = store.lastCas;
  assert.notEqual(next, big);
  assert.equal(store.store("cas", bytes("c"), bytes("3"), 0, 0, big), "exists");
  assert.equal(store.store("cas", bytes("c"), bytes("3"), 0, 0, next), "stored");
});

both("expired and flushed items are never returned and their space comes back", (make, clock) => {
  const store = make(options(1 << 20));
  store.store("set", bytes("short"), bytes("1"), 0, 10);
  store.store("set", bytes("long"), bytes("2"), 0, 1000);
  clock.advance(11);
  assert.equal(store.get(bytes("short")), -1);
  assert.equal(store.counters.get_expired, 1);
  assert.notEqual(store.get(bytes("long")), -1);
  assert.equal(store.currItems, 1);
  store.flush(5);
  store.store("set", bytes("after"), bytes("3"), 0, 0);
  clock.advance(6);
  store.store("set", bytes("later"), bytes("4"), 0, 0);
  assert.equal(store.get(bytes("long")), -1, "stored before the flush deadline");
  assert.equal(store.get(bytes("after")), -1);
  assert.notEqual(store.get(bytes("later")), -1);
  assert.equal(store.sweep(100), 0);
  assert.equal(store.currItems, 1);
});

both("a read meeting a dead item counts get_expired/flushed; a write over it, reclaimed", (
  make,
  clock,
) => {
  const store = make(options(1 << 20));
  const dead = () => store.store("set", bytes("x"), bytes("1"), 0, -1);
  dead();
  assert.equal(store.store("set", bytes("x"), bytes("2"), 0, 0), "stored");
  dead();
  assert.equal(store.delete(bytes("x")), "not_found");
  dead();
  assert.equal(store.touch(bytes("x"), 10), -1);
  dead();
  assert.equal(store.arith(bytes("x"), true, 1n), "not_found");
  dead();
  assert.equal(store.store("append", bytes("x"), bytes("y"), 0, 0), "not_stored");
  assert.deepEqual([store.counters.get_expired, store.counters.reclaimed], [3, 2]);
  assert.equal(store.peek(bytes("x")), -1);
  store.store("set", bytes("f"), bytes("1"), 0, 0);
  store.flush(5); // a delayed flush leaves the items in place until they are met
  clock.advance(5);
  assert.equal(store.store("add", bytes("f"), bytes("2"), 0, 0), "stored");
  assert.equal(store.counters.get_flushed, 0);
  assert.deepEqual([store.counters.reclaimed, store.counters.expired_unfetched], [3, 3]);
});

both("incr/decr refuse an empty value as non-numeric before they compare the CAS", (make) => {
  const store = make(options(1 << 20));
  store.store("set", bytes("e"), bytes(""), 0, 0);
  store.store("set", bytes("t"), bytes("text"), 0, 0);
  assert.equal(store.arith(bytes("e"), true, 1n, 12345n), "non_numeric");
  assert.equal(store.arith(bytes("t"), true, 1n, 12345n), "exists", "a non-empty value: CAS first");
});

both("the sweeper reclaims expired items from the LRU tail", (make, clock) => {
  const store = make(options(1 << 20));
  for (let i = 0; i < 50; i++) store.store("set", bytes(`e${i}`), bytes("x"), 0, i < 30 ? 5 : 0);
  clock.advance(6);
  assert.equal(store.sweep(1000), 30);
  assert.equal(store.counters.lru_crawler_starts, 1);
  assert.equal(store.currItems, 20);
  assert.deepEqual([store.counters.reclaimed, store.counters.crawler_reclaimed], [30, 0]);
  assert.equal(store.counters.expired_unfetched, 30);
});

// ---- the compact layout itself ----------------------------------------------------------------

Deno.test("compact: segments freed by one size serve another", () => {
  const limit = 4 << 20;
  const store = new CompactStore(new Clock(), options(limit));
  const small = new Uint8Array(50);
  for (let i = 0; store.counters.evictions === 0; i++) {
    store.store("set", bytes(`s${i}`), small, 0, 0);
  }
  const large = new Uint8Array(20_000).fill(7);
  for (let i = 0; i < 1000; i++) {
    assert.equal(store.store("set", bytes(`L${i}`), large, 0, 0), "stored");
  }
  // The segments stay within their budget: less than the limit, plus the walk's reserve.
  assert.ok(store.mallocedBytes <= limit + 2 * (1 << 20), `${store.mallocedBytes}`);
  const h = store.get(bytes("L999"));
  assert.deepEqual(store.valueOf(h), large);
});

Deno.test("compact: a lowered cache_memlimit evicts down, a raised one lets the store grow", () => {
  const store = new CompactStore(new Clock(), options(2 << 20));
  const v = new Uint8Array(1000).fill(3);
  for (let i = 0; i < 1500; i++) store.store("set", bytes(`k${i}`), v, 0, 0);
  assert.ok(store.bytes <= 2 << 20);
  store.setMaxBytes(1 << 20);
  assert.ok(store.bytes <= 1 << 20);
  store.setMaxBytes(32 << 20);
  const before = store.counters.evictions;
  for (let i = 0; i < 20_000; i++) store.store("set", bytes(`m${i}`), v, 0, 0);
  assert.equal(store.counters.evictions, before, "20 MB fits under the raised limit");
  assert.deepEqual(store.valueOf(store.peek(bytes("m0"))), v);
});

Deno.test("compact: the hash table grows and every key stays reachable", () => {
  const store = new CompactStore(new Clock(), options(256 << 20));
  const n = 300_000;
  for (let i = 0; i < n; i++) store.store("set", bytes(`key${i}`), bytes(String(i)), i, 0);
  assert.equal(store.currItems, n);
  for (let i = 0; i < n; i += 997) {
    const h = store.peek(bytes(`key${i}`));
    assert.equal(text(store.valueOf(h)), String(i));
    assert.equal(store.flagsOf(h), i);
  }
  for (let i = 0; i < n; i += 2) store.delete(bytes(`key${i}`));
  assert.equal(store.currItems, n / 2);
  assert.equal(store.peek(bytes("key2")), -1);
  assert.notEqual(store.peek(bytes("key3")), -1);
});

// ---- side by side -----------------------------------------------------------------------------

Deno.test("compact and reference stores answer 20,000 random calls alike, short of eviction", () => {
  const clock = new Clock();
  // Room for every key: the stores evict by different policies, so only answers without
  // eviction are the same (tests/store/log.test.ts compares them with eviction).
  const o = options(1 << 20);
  const a = new CompactStore(clock, o);
  const b = new ReferenceStore(clock, o);
  const pick = generator(6);
  const modes = ["set", "add", "replace", "append", "prepend", "cas"] as const;
  for (let step = 0; step < 20_000; step++) {
    const key = bytes(`k${pick(120)}`);
    const op = pick(10);
    const at = `step ${step} op ${op}`;
    if (op <= 3) {
      const mode = modes[pick(modes.length)];
      const value = new Uint8Array(pick(600)).fill(pick(256));
      const flags = pick(5);
      const exptime = pick(4) === 0 ? pick(20) : 0;
      const cas = mode === "cas" ? BigInt(pick(3) === 0 ? 0 : a.lastCas - BigInt(pick(3))) : 0n;
      const ra = a.store(mode, key, value, flags, exptime, cas);
      assert.equal(ra, b.store(mode, key, value, flags, exptime, cas), at);
      if (ra === "stored") assert.equal(a.lastCas, b.lastCas, at);
    } else if (op <= 6) {
      const ha = a.get(key);
      const hb = b.get(key);
      assert.equal(ha === -1, hb === -1, at);
      if (ha !== -1) {
        assert.deepEqual(a.valueOf(ha), b.valueOf(hb), at);
        assert.equal(a.flagsOf(ha), b.flagsOf(hb), at);
        assert.equal(a.casOf(ha), b.casOf(hb), at);
        assert.equal(a.exptimeOf(ha), b.exptimeOf(hb), at);
        a.setBits(ha, a.bitsOf(ha) | FETCHED);
        b.setBits(hb, b.bitsOf(hb) | FETCHED);
      }
    } else if (op === 7) {
      assert.equal(a.delete(key), b.delete(key), at);
    } else if (op === 8) {
      const incr = pick(2) === 0;
      const delta = BigInt(pick(1000));
      assert.equal(a.arith(key, incr, delta), b.arith(key, incr, delta), at);
      assert.equal(a.lastNumber, b.lastNumber, at);
    } else {
      const r = pick(100);
      if (r < 3) clock.advance(pick(10));
      else if (r < 4) {
        a.flush(0);
        b.flush(0);
      } else if (r < 10) assert.equal(a.sweep(1e6), b.sweep(1e6), at);
      else {
        const t = pick(30);
        assert.equal(a.touch(key, t) === -1, b.touch(key, t) === -1, at);
      }
    }
    assert.equal(a.bytes, b.bytes, at);
    assert.equal(a.currItems, b.currItems, at);
  }
  // The sweepers walk in different orders, so they start and check differently.
  const { lru_crawler_starts: _s, crawler_items_checked: _c, ...countedA } = a.counters;
  const { lru_crawler_starts: _t, crawler_items_checked: _d, ...countedB } = b.counters;
  assert.deepEqual(countedA, countedB);
  const keysA: string[] = [];
  const keysB: string[] = [];
  a.forEachKey((k) => keysA.push(text(k)) > 0);
  b.forEachKey((k) => keysB.push(text(k)) > 0);
  assert.deepEqual(keysA.sort(), keysB.sort(), "same keys");
});
