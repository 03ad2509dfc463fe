/**
 * The shared-store promise: what one door writes, the other reads (both directions), with the same
 * bytes, flags, CAS and counters.
 */
import assert from "node:assert/strict";
import { latin1, RawClient } from "../helpers/client.ts";
import { call, withHttpServer } from "../helpers/http.ts";

function withBoth(body: (base: string, mc: RawClient) => Promise<void>) {
  return withHttpServer([], body);
}

Deno.test("HTTP PUT, memcached gets: same bytes, flags and CAS; UTF-8 keys are the same item", async () => {
  await withBoth(async (base, mc) => {
    const put = await call("PUT", `${base}/keys/caf%C3%A9?flags=42`, {
      body: new Uint8Array([104, 105, 13, 10, 0, 255]),
    });
    assert.equal(put.status, 204);
    const cas = put.headers.get("etag")!.replaceAll('"', "");
    const key = "caf\xc3\xa9"; // the UTF-8 bytes of "café", as a memcached client sends them
    assert.equal(
      await mc.call(`gets ${key}\r\n`, "END\r\n"),
      `VALUE ${key} 42 6 ${cas}\r\nhi\r\n\x00\xff\r\nEND\r\n`,
    );
    // The unencoded form of the key in the URL reaches the same item.
    const raw = await call("GET", `${base}/keys/café`);
    assert.equal(raw.status, 200);
    // A non-UTF-8 key written by memcached is reachable with %XX escapes.
    assert.equal(await mc.call("set \xfe\xff 0 0 1\r\nz\r\n"), "STORED\r\n");
    assert.equal((await call("GET", `${base}/keys/%FE%FF`)).text, "z");
  });
});

Deno.test("memcached set, HTTP GET: same bytes, flags, CAS as ETag; deletes and incr cross over", async () => {
  await withBoth(async (base, mc) => {
    await mc.send(latin1("set k 7 0 4\r\n"));
    await mc.send(new Uint8Array([1, 2, 0xff, 0x80]));
    assert.equal(await mc.call("\r\n"), "STORED\r\n");
    const gets = await mc.call("gets k\r\n", "END\r\n");
    const cas = gets.split("\r\n")[0].split(" ")[4];
    const got = await call("GET", `${base}/keys/k`);
    assert.deepEqual(got.bytes, new Uint8Array([1, 2, 0xff, 0x80]));
    assert.equal(got.headers.get("x-memcached-flags"), "7");
    assert.equal(got.headers.get("etag"), `"${cas}"`);

    // cas over memcached with the ETag from HTTP, and the other way round.
    const put = await call("PUT", `${base}/keys/k`, {
      body: "http",
      headers: { "if-match": `"${cas}"` },
    });
    assert.equal(put.status, 204);
    const newCas = put.headers.get("etag")!.replaceAll('"', "");
    assert.equal(await mc.call(`cas k 0 0 2 ${cas}\r\nmc\r\n`), "EXISTS\r\n");
    assert.equal(await mc.call(`cas k 0 0 2 ${newCas}\r\nmc\r\n`), "STORED\r\n");
    assert.equal((await call("GET", `${base}/keys/k`)).text, "mc");

    assert.equal(await mc.call("set n 0 0 2\r\n40\r\n"), "STORED\r\n");
    assert.equal((await call("POST", `${base}/keys/n/incr?by=2`)).text, '{"value":42}');
    assert.equal(await mc.call("incr n 1\r\n"), "43\r\n");
    assert.equal((await call("DELETE", `${base}/keys/n`)).status, 204);
    assert.equal(await mc.call("get n\r\n", "END\r\n"), "END\r\n");
    assert.equal(await mc.call("delete k\r\n"), "DELETED\r\n");
    assert.equal((await call("GET", `${base}/keys/k`)).status, 404);

    assert.equal((await call("PUT", `${base}/keys/a`, { body: "1" })).status, 204);
    assert.equal(await mc.call("append a 0 0 1\r\n2\r\n"), "STORED\r\n");
    assert.equal((await call("POST", `${base}/keys/a/append`, { body: "3" })).status, 204);
    assert.equal(await mc.call("get a\r\n", "END\r\n"), "VALUE a 0 3\r\n123\r\nEND\r\n");
  });
});

Deno.test("HTTP requests count in memcached's counters, seen by `stats` and GET /stats alike", async () => {
  await withBoth(async (base, mc) => {
    const before = JSON.parse((await call("GET", `${base}/stats`)).text).http_requests;
    await call("PUT", `${base}/keys/x`, { body: "v" });
    await call("GET", `${base}/keys/x`);
    await call("GET", `${base}/keys/x`);
    await call("GET", `${base}/keys/missing`);
    await call("DELETE", `${base}/keys/missing`);
    await call("POST", `${base}/keys/missing/incr`);
    await call("POST", `${base}/keys/x/touch?ttl=0`);
    const text = await mc.call("stats\r\n", "END\r\n");
    const stat = (name: string) => Number(new RegExp(`STAT ${name} (\\S+)`).exec(text)![1]);
    assert.equal(stat("cmd_set"), 1);
    assert.equal(stat("cmd_get"), 3);
    assert.equal(stat("get_hits"), 2);
    assert.equal(stat("get_misses"), 1);
    assert.equal(stat("delete_misses"), 1);
    assert.equal(stat("incr_misses"), 1);
    assert.equal(stat("touch_hits"), 1);
    assert.equal(stat("curr_items"), 1);
    const json = JSON.parse((await call("GET", `${base}/stats`)).text);
    for (const name of ["cmd_set", "cmd_get", "get_hits", "get_misses", "curr_items", "bytes"]) {
      assert.equal(json[name], stat(name), name);
    }
    assert.equal(json.http_requests, before + 8);
  });
});
