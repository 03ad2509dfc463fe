/**
 * What HTTP users expect: ttl is seconds from now for any size (exptime keeps memcached's rule),
 * unknown or repeated parameters are 400 naming them, HEAD has GET's length, `/` in keys, versions.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { call, withHttpServer } from "../helpers/http.ts";
import { SERVER_NAME, SERVER_VERSION } from "../../src/version.ts";

function withServer(body: (base: string, mc: RawClient) => Promise<void>) {
  return withHttpServer(["--enable-debugtime"], body);
}

const THIRTY_DAYS = 2592000;

Deno.test("ttl is seconds from now even beyond 30 days; exptime keeps memcached's rule", async () => {
  await withServer(async (base, mc) => {
    assert.equal(
      (await call("PUT", `${base}/keys/long?ttl=${THIRTY_DAYS + 1}`, { body: "v" })).status,
      204,
    );
    const long = await call("GET", `${base}/keys/long`);
    assert.equal(long.status, 200);
    assert.equal(long.headers.get("x-memcached-ttl"), String(THIRTY_DAYS + 1));
    // exptime 2592001 is a unix time in 1970: memcached stores it already expired.
    await call("PUT", `${base}/keys/abs?exptime=${THIRTY_DAYS + 1}`, { body: "v" });
    assert.equal((await call("GET", `${base}/keys/abs`)).status, 404);
    await call("PUT", `${base}/keys/short?ttl=5`, { body: "v" });
    assert.equal(await mc.call("debugtime 6\r\n"), "OK\r\n");
    assert.equal((await call("GET", `${base}/keys/short`)).status, 404);
    assert.equal((await call("GET", `${base}/keys/long`)).status, 200);

    await call("PUT", `${base}/keys/t`, { body: "1" });
    const touched = await call("POST", `${base}/keys/t/touch?ttl=${THIRTY_DAYS * 2}`);
    assert.equal(touched.headers.get("x-memcached-ttl"), String(THIRTY_DAYS * 2));
    const incr = await call("POST", `${base}/keys/n/incr?initial=1&ttl=${THIRTY_DAYS + 5}`);
    assert.equal(incr.status, 200);
    const n = await call("GET", `${base}/keys/n`);
    assert.equal(n.headers.get("x-memcached-ttl"), String(THIRTY_DAYS + 5));

    const both = await call("PUT", `${base}/keys/x?ttl=1&exptime=1`, { body: "v" });
    assert.equal(both.status, 400);
  });
});

Deno.test("unknown or repeated query parameters are 400 naming them", async () => {
  await withServer(async (base) => {
    const typo = await call("PUT", `${base}/keys/k?tll=300`, { body: "v" });
    assert.equal(typo.status, 400);
    assert.match(JSON.parse(typo.text).message, /unknown query parameter tll/);
    assert.equal((await call("GET", `${base}/keys/k`)).status, 404, "nothing was stored");

    const twice = await call("PUT", `${base}/keys/k?ttl=1&ttl=2`, { body: "v" });
    assert.equal(twice.status, 400);
    assert.match(JSON.parse(twice.text).message, /ttl given twice/);

    assert.equal((await call("GET", `${base}/keys/k?format=json&x=1`)).status, 400);
    assert.equal((await call("GET", `${base}/stats?verbose=1`)).status, 400);
    assert.equal((await call("POST", `${base}/admin/flush?dealy=1`)).status, 400);
    const body = await call("POST", `${base}/keys/c/incr`, {
      body: JSON.stringify({ by: 1, ttll: 5 }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(body.status, 400);
    assert.match(JSON.parse(body.text).message, /ttll/);
    // A multi-get repeats `key` by design.
    await call("PUT", `${base}/keys/a`, { body: "1" });
    assert.equal((await call("GET", `${base}/keys?key=a&key=b`)).status, 200);
  });
});

Deno.test("HEAD sends GET's Content-Length and headers, without the body", async () => {
  await withServer(async (base) => {
    await call("PUT", `${base}/keys/h?flags=7`, { body: "hello world" });
    const get = await call("GET", `${base}/keys/h`);
    const head = await call("HEAD", `${base}/keys/h`);
    assert.equal(head.status, 200);
    assert.equal(head.bytes.length, 0);
    assert.equal(head.headers.get("content-length"), "11");
    assert.equal(head.headers.get("etag"), get.headers.get("etag"));
    assert.equal(head.headers.get("x-memcached-flags"), "7");
    const json = await call("GET", `${base}/keys/h?format=json`);
    const headJson = await call("HEAD", `${base}/keys/h?format=json`);
    assert.equal(headJson.headers.get("content-length"), String(json.bytes.length));
  });
});

Deno.test("a key containing / is reached as %2F; the 404 of /keys/a/b says so", async () => {
  await withServer(async (base, mc) => {
    assert.equal(await mc.call("set dir/file 0 0 2\r\nok\r\n"), "STORED\r\n");
    const got = await call("GET", `${base}/keys/dir%2Ffile`);
    assert.equal(got.status, 200);
    assert.equal(got.text, "ok");
    const slash = await call("GET", `${base}/keys/dir/file`);
    assert.equal(slash.status, 404);
    assert.match(JSON.parse(slash.text).message, /%2F/);
  });
});

Deno.test("our own version in /health, the OpenAPI document and stats", async () => {
  await withServer(async (base, mc) => {
    const health = JSON.parse((await call("GET", `${base}/health`)).text);
    assert.equal(health.server, SERVER_NAME);
    assert.equal(health.version, SERVER_VERSION);
    const openapi = JSON.parse((await call("GET", `${base}/openapi.json`)).text);
    assert.equal(openapi.info.version, SERVER_VERSION);
    const stats = await mc.call("stats\r\n", "END\r\n");
    assert.match(stats, /STAT version 1\.6\.18\r\n/);
    assert.ok(stats.includes(`STAT server_version ${SERVER_NAME}/${SERVER_VERSION}\r\n`));
    assert.match(SERVER_VERSION, /^\d+\.\d+\.\d+$/);
  });
});
