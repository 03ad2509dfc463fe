/** Loading respects -m: when the saved items do not fit, the most recently used ones are kept. */
import assert from "node:assert/strict";
import { Clock } from "../../src/clock.ts";
import { Persistence } from "../../src/persist/persistence.ts";
import { PersistentStore } from "../../src/persist/persistent_store.ts";

const te = (s: string) => new TextEncoder().encode(s);
const clock = new Clock();

function store(maxBytes: number, evict = true): PersistentStore {
  return new PersistentStore(clock, { maxBytes, itemSizeMax: 1 << 20, evict, casEnabled: true });
}

/** Persistence with only an -e snapshot in `dir`. */
function snapshotOnly(dir: string) {
  return {
    snapshotPath: `${dir}/snap`,
    logDir: null,
    fsync: "no" as const,
    repair: false,
    rewriteBytes: 1 << 20,
  };
}

for (const evict of [true, false]) {
  Deno.test(`a snapshot larger than -m keeps the most recently used items (evict: ${evict})`, async () => {
    const dir = await Deno.makeTempDir();
    const config = snapshotOnly(dir);
    const big = store(16 << 20);
    const saving = Persistence.start(big, config);
    const value = new Uint8Array(1000);
    for (let i = 0; i < 4000; i++) big.store("set", te(`k${i}`), value, 0, 0);
    // A read a second later makes the oldest item the most recent one (the store knows the time
    // of an item's last access to the second; within one, the newest write counts as the latest).
    clock.advance(1);
    assert.notEqual(big.get(te("k0")), -1);
    await saving.stop();

    const small = store(2 << 20, evict);
    const loading = Persistence.start(small, config);
    const kept = small.currItems;
    assert.ok(kept > 1000 && kept < 2100, `${kept} items fit in 2 MB`);
    assert.notEqual(small.peek(te("k0")), -1, "the item read last is kept");
    assert.notEqual(small.peek(te("k3999")), -1, "the newest item is kept");
    assert.equal(small.peek(te("k1")), -1, "the least recently used are not");
    assert.equal(small.peek(te(`k${4000 - kept}`)), -1);
    assert.notEqual(small.peek(te(`k${4000 - kept + 2}`)), -1);
    await loading.stop();
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("a CAS beyond 2^32 survives a snapshot, and new ones continue above it", async () => {
  const dir = await Deno.makeTempDir();
  const config = snapshotOnly(dir);
  const first = store(2 << 20);
  const saving = Persistence.start(first, config);
  const big = (1n << 40n) + 5n;
  assert.equal(first.store("set", te("k"), te("v"), 0, 0, 0n, big), "stored");
  await saving.stop();
  const second = store(2 << 20);
  const loading = Persistence.start(second, config);
  assert.equal(second.casOf(second.peek(te("k"))), big);
  second.store("set", te("n"), te("v"), 0, 0);
  assert.equal(second.casOf(second.peek(te("n"))), big + 1n);
  await loading.stop();
  await Deno.remove(dir, { recursive: true });
});
