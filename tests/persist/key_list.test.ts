/** The rewrite's key listing: every live key once, most recently used first, as the sync sort. */
import assert from "node:assert/strict";
import { Clock } from "../../src/clock.ts";
import { listKeysByRecency } from "../../src/persist/key_list.ts";
import { Store } from "../../src/store/store.ts";
import { generator } from "../helpers/random.ts";

Deno.test("listKeysByRecency: by last access, then CAS, newest first, over slices", async () => {
  const clock = new Clock();
  const store = new Store(clock, {
    maxBytes: 64 << 20,
    itemSizeMax: 1 << 20,
    evict: true,
    casEnabled: true,
  });
  const pick = generator(7);
  const text = new TextEncoder();
  // 100,000 keys over 40 seconds, some read again later: several slices and radix chunks.
  for (let i = 0; i < 100_000; i++) {
    if (i % 2500 === 0) clock.advance(1);
    store.store("set", text.encode(`k${i}`), text.encode("v"), 0, 0);
    if (pick(10) === 0) store.get(text.encode(`k${pick(i + 1)}`));
  }
  store.delete(text.encode("k5"));
  const expected: [string, number, bigint][] = [];
  store.forEachKey((key, h) => {
    expected.push([new TextDecoder().decode(key), store.lastAccessOf(h), store.casOf(h)]);
    return true;
  });
  expected.sort((a, b) => b[1] - a[1] || (b[2] > a[2] ? 1 : b[2] < a[2] ? -1 : 0));
  let turns = 0;
  let longest = 0;
  const list = await listKeysByRecency(store, (ms) => (longest = Math.max(longest, ms)), () => {
    turns++;
    return Promise.resolve();
  });
  const got: string[] = [];
  for (let i = 0; i < list.count; i++) {
    const k = list.order[i];
    got.push(new TextDecoder().decode(list.bytes.subarray(list.offsets[k], list.offsets[k + 1])));
  }
  assert.equal(got.length, expected.length);
  // The first key out of place, rather than a diff of 100,000 lines.
  const wrong = got.findIndex((key, i) => key !== expected[i][0]);
  assert.equal(wrong, -1, `key ${wrong}: ${got[wrong]}, expected ${expected[wrong]?.[0]}`);
  assert.ok(turns > 8, `the work was spread over turns (${turns})`);
});
