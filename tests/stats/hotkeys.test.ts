/** The Space-Saving sampler behind GET /stats/hotkeys: fixed memory, heavy hitters kept. */
import assert from "node:assert/strict";
import { HotKeys } from "../../src/introspect/hotkeys.ts";

const key = (s: string) => new TextEncoder().encode(s);

Deno.test("Space-Saving keeps the heavy hitters among many more distinct keys than it has room for", () => {
  const hot = new HotKeys(16, 1);
  for (let i = 0; i < 100_000; i++) {
    // One read in five is "a", one in ten is "b", the rest are all different keys.
    const name = i % 5 === 0 ? "a" : i % 10 === 1 ? "b" : `cold:${i}`;
    hot.sample(key(name));
  }
  const top = hot.top(100);
  assert.equal(top.length, 16, "never more keys than its capacity");
  assert.deepEqual(top.slice(0, 2).map((k) => k.key), ["a", "b"]);
  // The count is an upper bound, and count - error a lower bound, of the true count.
  assert.ok(top[0].count >= 20_000 && top[0].count - top[0].error <= 20_000);
  assert.ok(top[1].count >= 10_000 && top[1].count - top[1].error <= 10_000);
});

Deno.test("sampling gaps average `every` and are not a fixed stride", () => {
  const hot = new HotKeys(16, 8);
  const gaps = new Set<number>();
  let total = 0;
  for (let i = 0; i < 1000; i++) {
    hot.sample(key("k"));
    gaps.add(hot.countdown);
    total += hot.countdown;
  }
  assert.ok(gaps.size > 5);
  assert.ok(Math.abs(total / 1000 - 8) < 1);
});
