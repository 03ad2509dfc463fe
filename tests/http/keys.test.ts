/** The /keys routes over a real HTTP listener of the real server. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { call, httpReady } from "../helpers/http.ts";
import { startOurs } from "../helpers/server.ts";
import { createHttpDoor } from "../../routes/app.ts";
import { Clock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import { Store } from "../../src/store/store.ts";
import { Limits } from "../../src/limits.ts";

async function withServer(args: string[], body: (base: string, mc: RawClient) => Promise<void>) {
  const server = await startOurs(["--enable-debugtime", ...args]);
  const mc = await RawClient.connect(server.port);
  try {
    await body(await httpReady(`http://127.0.0.1:${server.httpPort}`), mc);
  } finally {
    mc.close();
    await server.stop();
  }
}

function errorCode(text: string): string {
  const body = JSON.parse(text);
  assert.equal(typeof body.message, "string");
  return body.error;
}

Deno.test("PUT then GET returns the exact bytes, ETag, flags and remaining ttl; HEAD has no body", async () => {
  await withServer([], async (base) => {
    const value = new Uint8Array([0, 1, 2, 255, 13, 10, 32, 200]);
    const put = await call("PUT", `${base}/keys/bin?flags=4294967295&ttl=100`, {
      body: value,
      headers: { "content-type": "image/png" },
    });
    assert.equal(put.status, 204);
    const tag = put.headers.get("etag")!;
    assert.match(tag, /^"\d+"$/);

    const got = await call("GET", `${base}/keys/bin`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.bytes, value);
    assert.equal(got.headers.get("content-type"), "application/octet-stream");
    assert.equal(got.headers.get("etag"), tag);
    assert.equal(got.headers.get("x-memcached-flags"), "4294967295");
    assert.equal(got.headers.get("x-memcached-ttl"), "100");

    const head = await call("HEAD", `${base}/keys/bin`);
    assert.equal(head.status, 200);
    assert.equal(head.bytes.length, 0);
    assert.equal(head.headers.get("etag"), tag);

    await call("PUT", `${base}/keys/forever`, { body: "x" });
    const forever = await call("GET", `${base}/keys/forever`);
    assert.equal(forever.headers.get("x-memcached-ttl"), null);
    assert.equal(forever.headers.get("x-memcached-flags"), "0");

    const missing = await call("GET", `${base}/keys/nothing-here`);
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing.text), "not_found");
    assert.equal((await call("HEAD", `${base}/keys/nothing-here`)).status, 404);
  });
});

Deno.test("ttl follows memcached's exptime rules: expiry, negative and absolute times", async () => {
  await withServer([], async (base, mc) => {
    assert.equal((await call("PUT", `${base}/keys/short?ttl=10`, { body: "v" })).status, 204);
    assert.equal((await call("PUT", `${base}/keys/gone?ttl=-1`, { body: "v" })).status, 204);
    assert.equal((await call("GET", `${base}/keys/gone`)).status, 404);
    const now = Math.floor(Date.now() / 1000);
    await call("PUT", `${base}/keys/absolute?ttl=${now + 3600}`, { body: "v" });
    const ttl = Number((await call("GET", `${base}/keys/absolute`)).headers.get("x-memcached-ttl"));
    assert.ok(ttl > 3500 && ttl <= 3601, `ttl ${ttl}`);
    assert.equal(await mc.call("debugtime 11\r\n"), "OK\r\n");
    assert.equal((await call("GET", `${base}/keys/short`)).status, 404);
    assert.equal((await call("GET", `${base}/keys/absolute`)).status, 200);
  });
});

Deno.test("DELETE answers 204, then 404; If-Match guards it", async () => {
  await withServer([], async (base) => {
    const put = await call("PUT", `${base}/keys/d`, { body: "v" });
    const tag = put.headers.get("etag")!;
    const wrong = await call("DELETE", `${base}/keys/d`, { headers: { "if-match": '"999999"' } });
    assert.equal(wrong.status, 412);
    assert.equal(errorCode(wrong.text), "precondition_failed");
    assert.equal(
      (await call("DELETE", `${base}/keys/d`, { headers: { "if-match": tag } })).status,
      204,
    );
    const again = await call("DELETE", `${base}/keys/d`);
    assert.equal(again.status, 404);
    assert.equal(errorCode(again.text), "not_found");
  });
});

Deno.test("If-Match is cas, If-Match: * is replace, If-None-Match: * is add", async () => {
  await withServer([], async (base) => {
    const first = await call("PUT", `${base}/keys/c`, { body: "one" });
    const tag = first.headers.get("etag")!;
    // Weak and unquoted forms of the same tag are accepted.
    const weak = await call("PUT", `${base}/keys/c`, {
      body: "two",
      headers: { "if-match": `W/${tag}` },
    });
    assert.equal(weak.status, 204);
    const moved = await call("PUT", `${base}/keys/c`, {
      body: "three",
      headers: { "if-match": tag },
    });
    assert.equal(moved.status, 412);
    const current = weak.headers.get("etag")!.replaceAll('"', "");
    const bare = await call("PUT", `${base}/keys/c`, {
      body: "four",
      headers: { "if-match": current },
    });
    assert.equal(bare.status, 204);
    assert.equal((await call("GET", `${base}/keys/c`)).text, "four");

    const gone = await call("PUT", `${base}/keys/never`, {
      body: "x",
      headers: { "if-match": tag },
    });
    assert.equal(gone.status, 404);
    const replaceMissing = await call("PUT", `${base}/keys/never`, {
      body: "x",
      headers: { "if-match": "*" },
    });
    assert.equal(replaceMissing.status, 412);
    assert.equal(
      (await call("PUT", `${base}/keys/c`, { body: "r", headers: { "if-match": "*" } })).status,
      204,
    );

    const add = await call("PUT", `${base}/keys/new`, {
      body: "a",
      headers: { "if-none-match": "*" },
    });
    assert.equal(add.status, 201);
    assert.match(add.headers.get("etag")!, /^"\d+"$/);
    const addAgain = await call("PUT", `${base}/keys/new`, {
      body: "b",
      headers: { "if-none-match": "*" },
    });
    assert.equal(addAgain.status, 412);
    assert.equal((await call("GET", `${base}/keys/new`)).text, "a");

    const list = await call("PUT", `${base}/keys/c`, {
      body: "x",
      headers: { "if-match": '"1", "2"' },
    });
    assert.equal(list.status, 400);
  });
});

Deno.test("append and prepend; 404 when the key is missing", async () => {
  await withServer([], async (base) => {
    await call("PUT", `${base}/keys/s?flags=9`, { body: "mid" });
    const app = await call("POST", `${base}/keys/s/append`, { body: "-end" });
    assert.equal(app.status, 204);
    assert.match(app.headers.get("etag")!, /^"\d+"$/);
    assert.equal((await call("POST", `${base}/keys/s/prepend`, { body: "start-" })).status, 204);
    const got = await call("GET", `${base}/keys/s`);
    assert.equal(got.text, "start-mid-end");
    assert.equal(got.headers.get("x-memcached-flags"), "9");
    assert.equal((await call("POST", `${base}/keys/none/append`, { body: "x" })).status, 404);
    assert.equal((await call("POST", `${base}/keys/none/prepend`, { body: "x" })).status, 404);
  });
});

Deno.test("incr and decr: exact to 64 bits, by from query or JSON body, 404, 409, 415, 400", async () => {
  await withServer([], async (base) => {
    await call("PUT", `${base}/keys/n`, { body: "10" });
    const one = await call("POST", `${base}/keys/n/incr`);
    assert.equal(one.status, 200);
    assert.deepEqual(JSON.parse(one.text), { value: 11 });
    const q = await call("POST", `${base}/keys/n/decr?by=20`);
    assert.deepEqual(JSON.parse(q.text), { value: 0 });
    const j = await call("POST", `${base}/keys/n/incr`, {
      body: JSON.stringify({ by: "18446744073709551615" }),
      headers: { "content-type": "application/json" },
    });
    assert.deepEqual(JSON.parse(j.text), { value: "18446744073709551615" });
    const wrap = await call("POST", `${base}/keys/n/incr?by=2`);
    assert.deepEqual(JSON.parse(wrap.text), { value: 1 }, "incr wraps at 2^64 as memcached's does");
    const num = await call("POST", `${base}/keys/n/incr`, {
      body: JSON.stringify({ by: 41 }),
      headers: { "content-type": "application/json" },
    });
    assert.deepEqual(JSON.parse(num.text), { value: 42 });
    assert.equal((await call("GET", `${base}/keys/n`)).text.trimEnd(), "42");

    const missing = await call("POST", `${base}/keys/nope/incr`);
    assert.equal(missing.status, 404);
    await call("PUT", `${base}/keys/word`, { body: "abc" });
    const nonNumeric = await call("POST", `${base}/keys/word/incr`);
    assert.equal(nonNumeric.status, 409);
    assert.equal(errorCode(nonNumeric.text), "not_numeric");
    const media = await call("POST", `${base}/keys/n/incr`, {
      body: "by=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(media.status, 415);
    for (const by of ["-1", "abc", "18446744073709551616"]) {
      const bad = await call("POST", `${base}/keys/n/incr?by=${by}`);
      assert.equal(bad.status, 400, by);
      assert.equal(errorCode(bad.text), "bad_parameter");
    }
    const unsafe = await call("POST", `${base}/keys/n/incr`, {
      body: '{"by": 18446744073709551615}',
      headers: { "content-type": "application/json" },
    });
    assert.equal(unsafe.status, 400, "a JSON number beyond 2^53 has lost digits: refuse it");
    const created = await call("POST", `${base}/keys/fresh/incr?initial=5`);
    assert.deepEqual(JSON.parse(created.text), { value: 5 });
  });
});

Deno.test("touch changes the ttl; 404 when missing; ttl is required", async () => {
  await withServer([], async (base, mc) => {
    await call("PUT", `${base}/keys/t?ttl=5`, { body: "v" });
    const touched = await call("POST", `${base}/keys/t/touch?ttl=100`);
    assert.equal(touched.status, 204);
    assert.equal(touched.headers.get("x-memcached-ttl"), "100");
    await mc.call("debugtime 10\r\n");
    assert.equal((await call("GET", `${base}/keys/t`)).status, 200);
    assert.equal((await call("POST", `${base}/keys/none/touch?ttl=1`)).status, 404);
    assert.equal((await call("POST", `${base}/keys/t/touch`)).status, 400);
  });
});

Deno.test("the JSON form of a read and multi-key reads carry value, flags, cas and ttl", async () => {
  await withServer([], async (base) => {
    const put = await call("PUT", `${base}/keys/j?flags=3&ttl=50`, { body: "hello" });
    const cas = Number(put.headers.get("etag")!.replaceAll('"', ""));
    await call("PUT", `${base}/keys/b`, { body: new Uint8Array([0xff, 0xfe]) });
    const one = await call("GET", `${base}/keys/j?format=json`);
    assert.equal(one.headers.get("content-type"), "application/json");
    assert.deepEqual(JSON.parse(one.text), {
      key: "j",
      value: "hello",
      encoding: "utf-8",
      size: 5,
      flags: 3,
      cas,
      ttl: 50,
    });
    const b64 = JSON.parse((await call("GET", `${base}/keys/j?format=json&encoding=base64`)).text);
    assert.equal(b64.value, btoa("hello"));
    const many = JSON.parse((await call("GET", `${base}/keys?key=j&key=b&key=none`)).text);
    assert.deepEqual(many.missing, ["none"]);
    assert.equal(many.items.length, 2);
    assert.equal(many.items[1].key, "b");
    assert.equal(many.items[1].encoding, "base64");
    assert.equal(many.items[1].value, btoa("\xff\xfe"));
    assert.equal(many.items[1].ttl, null);
    assert.equal((await call("GET", `${base}/keys?key=a%20b`)).status, 400);
  });
});

Deno.test("GET /keys lists by prefix in byte order, page by page, each key once", async () => {
  await withServer([], async (base) => {
    const names = Array.from({ length: 25 }, (_, i) => `user:${String(i).padStart(2, "0")}`);
    for (const name of names) await call("PUT", `${base}/keys/${name}`, { body: "v" });
    await call("PUT", `${base}/keys/other`, { body: "v" });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url = `${base}/keys?prefix=user%3A&limit=10${cursor ? `&cursor=${cursor}` : ""}`;
      const page = JSON.parse((await call("GET", url)).text);
      assert.ok(page.keys.length <= 10);
      // Reading reorders the LRU; the listing must not care.
      for (const k of page.keys) await call("GET", `${base}/keys/${k}`);
      seen.push(...page.keys);
      cursor = page.cursor;
      pages++;
    } while (cursor !== null);
    assert.equal(pages, 3);
    assert.deepEqual(seen, names);
    assert.equal((await call("GET", `${base}/keys?limit=0`)).status, 400);
    assert.equal((await call("GET", `${base}/keys?limit=100000`)).status, 400);
    assert.equal((await call("GET", `${base}/keys?cursor=%21%21`)).status, 400);
  });
});

Deno.test("bad keys and bad parameters are 400 with the JSON error shape", async () => {
  await withServer([], async (base) => {
    const long = "k".repeat(251);
    for (const path of ["/keys/", `/keys/${long}`, "/keys/a%20b", "/keys/a%0Ab", "/keys/a%7Fb"]) {
      const res = await call("GET", base + path);
      assert.equal(res.status, 400, path);
      assert.equal(errorCode(res.text), "bad_key", path);
      const put = await call("PUT", base + path, { body: "x" });
      assert.equal(put.status, 400, path);
    }
    assert.equal((await call("GET", `${base}/keys/${"k".repeat(250)}`)).status, 404);
    for (const q of ["ttl=abc", "ttl=9999999999", "flags=-1", "flags=4294967296", "flags=x"]) {
      const res = await call("PUT", `${base}/keys/p?${q}`, { body: "x" });
      assert.equal(res.status, 400, q);
      assert.equal(errorCode(res.text), "bad_parameter", q);
    }
    const unknown = await call("GET", `${base}/nowhere`);
    assert.equal(unknown.status, 404);
    assert.equal(errorCode(unknown.text), "no_route");
    const method = await call("PATCH", `${base}/keys/x`);
    assert.equal(method.status, 405);
    assert.equal(errorCode(method.text), "method_not_allowed");
    assert.match(method.headers.get("allow")!, /PUT/);
    assert.equal((await call("GET", `${base}/keys/x/incr`)).status, 405);
  });
});

Deno.test("413 for a value over the item size limit, by Content-Length or while streaming", async () => {
  await withServer(["-I", "2k"], async (base) => {
    const big = new Uint8Array(4096);
    const res = await call("PUT", `${base}/keys/big`, { body: big });
    assert.equal(res.status, 413);
    assert.equal(errorCode(res.text), "too_large");
    // A chunked body (no Content-Length) larger than the limit is refused as it streams.
    const LOTS = 256 * 1024 * 1024;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= LOTS) return controller.close();
        sent += 65536;
        controller.enqueue(new Uint8Array(65536));
      },
    });
    const chunked = await call("PUT", `${base}/keys/big`, { body: stream });
    assert.equal(chunked.status, 413);
    assert.ok(sent < LOTS, `the client sent all ${sent} bytes of a refused body`);
    const ok = await call("PUT", `${base}/keys/fits`, { body: new Uint8Array(1024) });
    assert.equal(ok.status, 204);
    const grow = await call("POST", `${base}/keys/fits/append`, { body: new Uint8Array(1500) });
    assert.equal(grow.status, 413);
    const stats = JSON.parse((await call("GET", `${base}/stats`)).text);
    assert.equal(stats.store_too_large, 3);
  });
});

Deno.test("a read's body is its own copy: the item's bytes changing before it is sent leave it whole", async () => {
  const store = new Store(new Clock(), {
    maxBytes: 1 << 20,
    itemSizeMax: 1 << 20,
    evict: true,
    casEnabled: true,
  });
  const parsed = parseConfig([]);
  assert.ok("config" in parsed);
  const door = createHttpDoor({
    store,
    config: parsed.config,
    connections: new Set(),
    limits: new Limits(parsed.config.maxInflightBytes),
    requestShutdown() {},
  });
  const key = new TextEncoder().encode("k");
  store.store("set", key, new Uint8Array(100).fill(97), 0, 0, 0n);
  const response = await door.fetch(new Request("http://127.0.0.1/keys/k"));
  // What a later write into the same arena chunk does to the bytes the response was built from.
  store.valueOf(store.peek(key)).fill(98);
  assert.equal(await response.text(), "a".repeat(100));
});
