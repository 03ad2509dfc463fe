/** The shared key index behind hot keys and stats detail: finds what was put, forgets what was removed. */
import assert from "node:assert/strict";
import { KeyIndex } from "../../src/introspect/key_index.ts";
import { hashKey } from "../../src/store/hash.ts";
import { generator } from "../helpers/random.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("a key index agrees with a Map through random puts and removes", () => {
  const capacity = 64;
  const index = new KeyIndex(new SharedArrayBuffer(KeyIndex.bytes(capacity)), 0, capacity);
  const model = new Map<string, number>();
  const free = Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
  const pick = generator(7);
  for (let step = 0; step < 20_000; step++) {
    // Few distinct keys with a forced few hash buckets: long probe runs that removal must mend.
    const key = `k${pick(200)}`;
    const hash = hashKey(bytes(key)) & 0x7;
    const slot = index.find(bytes(key), hash);
    assert.equal(slot, model.get(key) ?? -1, `step ${step}: ${key}`);
    if (slot === -1 && free.length > 0) {
      const s = free.pop()!;
      index.put(s, bytes(key), hash);
      model.set(key, s);
    } else if (slot !== -1 && pick(2) === 0) {
      index.remove(slot);
      model.delete(key);
      free.push(slot);
    }
  }
  for (const [key, slot] of model) assert.equal(index.keyOf(slot), key);
});
