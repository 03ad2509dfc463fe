/** Exercises the npm `memcached` client against the server on Deno.args[0]; prints OK. */
import assert from "node:assert/strict";
// Test-only client, loaded by specifier as the guide asks (not a dependency of the server).
// deno-lint-ignore no-import-prefix
import Memcached from "npm:memcached@2.2.2";

const mc = new Memcached(`127.0.0.1:${Deno.args[0]}`, { retries: 0, timeout: 2000 });
const call = <T>(fn: (cb: (err: unknown, v: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
try {
  assert.equal(await call((cb) => mc.set("npm:a", "hello", 100, cb)), true);
  assert.equal(await call((cb) => mc.get("npm:a", cb)), "hello");
  assert.equal(await call((cb) => mc.set("npm:json", { n: 1 }, 0, cb)), true);
  assert.deepEqual(await call((cb) => mc.get("npm:json", cb)), { n: 1 });
  await assert.rejects(call((cb) => mc.add("npm:a", "x", 0, cb)));
  assert.equal(await call((cb) => mc.add("npm:b", "1", 0, cb)), true);
  assert.equal(await call((cb) => mc.replace("npm:b", "10", 0, cb)), true);
  assert.equal(await call((cb) => mc.append("npm:a", " world", cb)), true);
  assert.equal(await call((cb) => mc.prepend("npm:a", ">", cb)), true);
  const g = await call<{ cas: string; "npm:a": string }>((cb) => mc.gets("npm:a", cb));
  assert.equal(g["npm:a"], ">hello world");
  assert.equal(await call((cb) => mc.cas("npm:a", "new", g.cas, 0, cb)), true);
  assert.equal(await call((cb) => mc.cas("npm:a", "newer", g.cas, 0, cb)), false);
  assert.deepEqual(await call((cb) => mc.getMulti(["npm:a", "npm:b", "npm:none"], cb)), {
    "npm:a": "new",
    "npm:b": "10",
  });
  assert.equal(await call((cb) => mc.incr("npm:b", 5, cb)), 15);
  assert.equal(await call((cb) => mc.decr("npm:b", 20, cb)), 0);
  assert.equal(await call((cb) => mc.incr("npm:none", 1, cb)), false);
  assert.equal(await call((cb) => mc.touch("npm:a", 100, cb)), true);
  assert.equal(await call((cb) => mc.del("npm:a", cb)), true);
  assert.equal(await call((cb) => mc.get("npm:a", cb)), undefined);
  const version = await call<{ version: string }[]>((cb) => mc.version(cb));
  assert.equal(version[0].version, "1.6.18");
  const stats = await call<{ curr_items: number }[]>((cb) => mc.stats(cb));
  assert.ok(stats[0].curr_items >= 1);
  await call((cb) => mc.flush(cb));
  assert.equal(await call((cb) => mc.get("npm:b", cb)), undefined);
  console.log("OK");
} finally {
  mc.end();
}
