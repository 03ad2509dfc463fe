/** Store semantics through its API, in process, on a clock the test moves. */
import assert from "node:assert/strict";
import { Clock } from "../../src/clock.ts";
import { Store } from "../../src/store/store.ts";
import { latin1 } from "../helpers/client.ts";

function makeStore(maxBytes = 1 << 20, evict = true) {
  const clock = new Clock();
  const store = new Store(clock, { maxBytes, itemSizeMax: 1 << 20, evict, casEnabled: true });
  return { clock, store };
}
const k = latin1;
const text = (v: Uint8Array) => String.fromCharCode(...v);

Deno.test("set/get/add/replace/append/prepend keep memcached's rules", () => {
  const { store } = makeStore();
  assert.equal(store.store("set", k("a"), k("1"), 5, 0), "stored");
  assert.equal(store.store("add", k("a"), k("2"), 0, 0), "not_stored");
  assert.equal(store.store("replace", k("zz"), k("2"), 0, 0), "not_stored");
  assert.equal(store.store("append", k("a"), k("23"), 9, 100), "stored");
  assert.equal(store.store("prepend", k("a"), k("0"), 9, 100), "stored");
  const h = store.get(k("a"));
  assert.equal(text(store.valueOf(h)), "0123");
  assert.equal(store.flagsOf(h), 5, "append/prepend keep the flags");
  assert.equal(store.exptimeOf(h), 0, "append/prepend keep the exptime");
});

Deno.test("the stored value is a copy, not a view of the caller's buffer", () => {
  const { store } = makeStore();
  const buf = k("hello");
  store.store("set", k("a"), buf, 0, 0);
  buf[0] = 0x4a;
  assert.equal(text(store.valueOf(store.get(k("a")))), "hello");
});

Deno.test("cas: exists on a moved CAS, not_found on a missing key; CAS values are 64-bit", () => {
  const { store } = makeStore();
  store.store("set", k("a"), k("1"), 0, 0);
  const cas = store.lastCas;
  assert.equal(store.store("cas", k("a"), k("2"), 0, 0, cas + 1n), "exists");
  assert.equal(store.store("cas", k("a"), k("2"), 0, 0, cas), "stored");
  assert.equal(store.store("cas", k("b"), k("2"), 0, 0, cas), "not_found");
  const big = (1n << 63n) + 5n;
  assert.equal(store.store("set", k("c"), k("1"), 0, 0, 0n, big), "stored");
  assert.equal(store.casOf(store.peek(k("c"))), big);
});

Deno.test("incr wraps at 2^64, decr stops at 0, non-numeric is refused", () => {
  const { store } = makeStore();
  store.store("set", k("n"), k("18446744073709551615"), 0, 0);
  assert.equal(store.arith(k("n"), true, 2n), "ok");
  assert.equal(store.lastNumber, 1n);
  store.store("set", k("d"), k("10"), 0, 0);
  assert.equal(store.arith(k("d"), false, 1n), "ok");
  assert.equal(text(store.valueOf(store.peek(k("d")))), "9 ", "memcached pads in place");
  assert.equal(store.arith(k("d"), false, 100n), "ok");
  assert.equal(store.lastNumber, 0n);
  assert.equal(store.arith(k("d"), true, 12345n), "ok");
  assert.equal(text(store.valueOf(store.peek(k("d")))), "12345");
  store.store("set", k("s"), k("abc"), 0, 0);
  assert.equal(store.arith(k("s"), true, 1n), "non_numeric");
  assert.equal(store.arith(k("missing"), true, 1n), "not_found");
  assert.equal(store.arith(k("viv"), true, 1n, 0n, 7n, 0), "ok");
  assert.equal(text(store.valueOf(store.peek(k("viv")))), "7");
});

Deno.test("expiry: relative, absolute, negative; expired items are reclaimed", () => {
  const { clock, store } = makeStore();
  store.store("set", k("rel"), k("x"), 0, 10);
  store.store("set", k("abs"), k("x"), 0, clock.now + 20);
  store.store("set", k("neg"), k("x"), 0, -1);
  assert.equal(store.get(k("neg")), -1);
  clock.advance(10);
  assert.equal(store.get(k("rel")), -1);
  assert.notEqual(store.get(k("abs")), -1);
  clock.advance(10);
  assert.equal(store.get(k("abs")), -1);
  assert.equal(store.counters.get_expired, 3);
  assert.equal(store.currItems, 0);
  assert.equal(store.bytes, 0);
});

Deno.test("the sweeper reclaims expired items nobody asks for", () => {
  const { clock, store } = makeStore();
  for (let i = 0; i < 100; i++) store.store("set", k(`e${i}`), k("x"), 0, 5);
  store.store("set", k("keep"), k("x"), 0, 0);
  clock.advance(6);
  store.sweep(1000);
  assert.equal(store.currItems, 1);
  assert.equal(store.counters.expired_unfetched, 100);
});

Deno.test("memory is bounded: LRU eviction, or refusal with -M", () => {
  const { store } = makeStore(100_000);
  const value = new Uint8Array(1000);
  for (let i = 0; i < 200; i++) {
    assert.equal(store.store("set", k(`k${i}`), value, 0, 0), "stored");
    store.get(k("k0")); // keep k0 hot
  }
  assert.ok(store.bytes <= 100_000);
  assert.ok(store.counters.evictions > 0);
  assert.notEqual(store.peek(k("k0")), -1);
  assert.equal(store.peek(k("k1")), -1);
  assert.notEqual(store.peek(k("k199")), -1);

  const strict = makeStore(100_000, false).store;
  let outcome = "stored";
  for (let i = 0; i < 200 && outcome === "stored"; i++) {
    outcome = strict.store("set", k(`k${i}`), value, 0, 0);
  }
  assert.equal(outcome, "no_memory");
  assert.equal(strict.counters.evictions, 0);
});

Deno.test("flush with a delay spares items stored after the deadline", () => {
  const { clock, store } = makeStore();
  store.store("set", k("old"), k("x"), 0, 0);
  store.flush(5);
  assert.notEqual(store.get(k("old")), -1);
  clock.advance(5);
  assert.equal(store.get(k("old")), -1);
  store.store("set", k("new"), k("x"), 0, 0);
  assert.notEqual(store.get(k("new")), -1);
  store.flush();
  assert.equal(store.get(k("new")), -1);
  store.sweep(100);
  assert.equal(store.currItems, 0);
});
