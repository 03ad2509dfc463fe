/** /stats, /metrics, /health, /admin, /openapi.json and the bearer token, over a real listener. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { call, httpReady } from "../helpers/http.ts";
import { freePort, startOurs } from "../helpers/server.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
import { OPENAPI } from "../../routes/openapi.ts";
import { createHttpDoor } from "../../routes/app.ts";
import { parseConfig } from "../../src/config.ts";
import { Clock } from "../../src/clock.ts";
import { Store } from "../../src/store/store.ts";
import { Limits } from "../../src/limits.ts";

Deno.test("GET /stats and its sub-resources: memcached's names, numbers as JSON numbers", async () => {
  const server = await startOurs(["-m", "8", "-I", "2m"]);
  const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
  try {
    await call("PUT", `${base}/keys/a`, { body: "12345" });
    const stats = JSON.parse((await call("GET", `${base}/stats`)).text);
    assert.equal(stats.version, "1.6.18");
    for (const name of ["pid", "uptime", "curr_items", "bytes", "limit_maxbytes", "rusage_user"]) {
      assert.equal(typeof stats[name], "number", name);
    }
    assert.equal(stats.limit_maxbytes, 8 * 1024 * 1024);
    assert.equal(stats.curr_items, 1);
    const settings = JSON.parse((await call("GET", `${base}/stats/settings`)).text);
    assert.equal(settings.item_size_max, 2 * 1024 * 1024);
    assert.equal(settings.tcpport, server.port);
    const items = JSON.parse((await call("GET", `${base}/stats/items`)).text);
    assert.equal(items["items:1:number"], 1);
    const slabs = JSON.parse((await call("GET", `${base}/stats/slabs`)).text);
    assert.equal(slabs.active_slabs, 1);
    const conns = await call("GET", `${base}/stats/conns`);
    assert.equal(conns.status, 200);
  } finally {
    await server.stop();
  }
});

/** Parses the Prometheus text format into "name{labels}" -> value, checking its shape. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  let current = "";
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE (\w+) (counter|gauge)$/.exec(line);
    if (type) {
      assert.ok(!typed.has(type[1]), `${type[1]} typed twice (its samples must be adjacent)`);
      typed.add(type[1]);
      current = type[1];
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    assert.ok(m, `bad sample line: ${line}`);
    assert.equal(m[1], current, `${m[1]} outside its family`);
    assert.ok(!Number.isNaN(Number(m[3])), line);
    samples.set(m[1] + (m[2] ?? ""), Number(m[3]));
  }
  return samples;
}

Deno.test("GET /metrics: Prometheus text with the memcached exporter's names and labels", async () => {
  const server = await startOurs(["-m", "8"]);
  const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
  const mc = await RawClient.connect(server.port);
  try {
    await call("PUT", `${base}/keys/a`, { body: "12345" });
    await call("GET", `${base}/keys/a`);
    await call("GET", `${base}/keys/b`);
    assert.equal(await mc.call("get a\r\n", "END\r\n"), "VALUE a 0 5\r\n12345\r\nEND\r\n");
    const res = await call("GET", `${base}/metrics`);
    assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const m = parseExposition(res.text);
    assert.equal(m.get("memcached_up"), 1);
    assert.equal(m.get("memcached_current_items"), 1);
    assert.equal(m.get("memcached_limit_bytes"), 8 * 1024 * 1024);
    assert.equal(m.get('memcached_commands_total{command="get",status="hit"}'), 2);
    assert.equal(m.get('memcached_commands_total{command="get",status="miss"}'), 1);
    assert.equal(m.get('memcached_commands_total{command="set",status="hit"}'), 1);
    assert.equal(m.get('memcached_slab_current_items{slab="1"}'), 1);
    const stats = JSON.parse((await call("GET", `${base}/stats`)).text);
    assert.equal(m.get("memcached_current_bytes"), stats.bytes);
    for (
      const name of [
        "memcached_items_evicted_total",
        "memcached_items_total",
        "memcached_current_connections",
        "memcached_connections_total",
        "memcached_read_bytes_total",
        "memcached_written_bytes_total",
        "memcached_uptime_seconds",
        'memcached_version{version="1.6.18"}',
        "memcached_http_requests_total",
      ]
    ) {
      assert.ok(m.has(name), name);
    }
  } finally {
    mc.close();
    await server.stop();
  }
});

Deno.test("/health answers 200; POST /admin/flush empties now or after a delay", async () => {
  const server = await startOurs(["--enable-debugtime"]);
  const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
  const mc = await RawClient.connect(server.port);
  try {
    const health = await call("GET", `${base}/health`);
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.text).status, "ok");
    await call("PUT", `${base}/keys/a`, { body: "1" });
    assert.equal((await call("POST", `${base}/admin/flush`)).status, 204);
    assert.equal((await call("GET", `${base}/keys/a`)).status, 404);
    await call("PUT", `${base}/keys/b`, { body: "1" });
    assert.equal((await call("POST", `${base}/admin/flush?delay=10`)).status, 204);
    assert.equal((await call("GET", `${base}/keys/b`)).status, 200);
    await mc.call("debugtime 11\r\n");
    assert.equal((await call("GET", `${base}/keys/b`)).status, 404);
    assert.equal((await call("POST", `${base}/admin/flush?delay=-1`)).status, 400);
    assert.equal((await call("GET", `${base}/admin/flush`)).status, 405);
    const stats = JSON.parse((await call("GET", `${base}/stats`)).text);
    assert.equal(stats.cmd_flush, 2);
    assert.equal((await call("POST", `${base}/admin/stats/reset`)).status, 204);
    assert.equal(JSON.parse((await call("GET", `${base}/stats`)).text).cmd_flush, 0);
  } finally {
    mc.close();
    await server.stop();
  }
});

Deno.test("--http-token: every route but /health needs the bearer token", async () => {
  const server = await startOurs(["--http-token", "s3cret"]);
  const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
  const ok = { authorization: "Bearer s3cret" };
  try {
    assert.equal((await call("GET", `${base}/health`)).status, 200);
    for (
      const [method, path] of [
        ["GET", "/keys/a"],
        ["PUT", "/keys/a"],
        ["GET", "/keys"],
        ["GET", "/stats"],
        ["GET", "/metrics"],
        ["POST", "/admin/flush"],
        ["GET", "/openapi.json"],
        ["GET", "/no-such-route"],
      ]
    ) {
      const attempts: Record<string, string>[] = [
        {},
        { authorization: "Bearer wrong" },
        { authorization: "s3cret" },
      ];
      for (const headers of attempts) {
        const res = await call(method, base + path, { headers });
        assert.equal(res.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
        assert.equal(JSON.parse(res.text).error, "unauthorized");
        assert.match(res.headers.get("www-authenticate")!, /^Bearer/);
      }
    }
    assert.equal((await call("PUT", `${base}/keys/a`, { headers: ok, body: "v" })).status, 204);
    const got = await call("GET", `${base}/keys/a`, {
      headers: { authorization: "bearer s3cret" },
    });
    assert.equal(got.status, 200);
    assert.equal(got.text, "v");
    const stats = JSON.parse((await call("GET", `${base}/stats`, { headers: ok })).text);
    assert.ok(stats.http_errors >= 24, `http_errors ${stats.http_errors}`);
  } finally {
    await server.stop();
  }
});

Deno.test("the token can come from MEMCACHED_HTTP_TOKEN", async () => {
  const port = freePort();
  const httpPort = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env=MEMCACHED_HTTP_TOKEN,MEMCACHED_SASL_PWDB",
      MAIN,
      "-p",
      String(port),
      "--http-port",
      String(httpPort),
    ],
    env: { MEMCACHED_HTTP_TOKEN: "envtoken" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const base = await httpReady(`http://127.0.0.1:${httpPort}`);
    assert.equal((await call("GET", `${base}/stats`)).status, 401);
    const ok = await call("GET", `${base}/stats`, {
      headers: { authorization: "Bearer envtoken" },
    });
    assert.equal(ok.status, 200);
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
});

Deno.test("GET /openapi.json describes exactly the routes the app serves", async () => {
  const server = await startOurs();
  const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
  try {
    const served = JSON.parse((await call("GET", `${base}/openapi.json`)).text);
    assert.deepEqual(served, JSON.parse(JSON.stringify(OPENAPI)));
    assert.match(served.openapi, /^3\./);
  } finally {
    await server.stop();
  }
  const parsed = parseConfig([]);
  assert.ok("config" in parsed);
  const store = new Store(new Clock(), {
    maxBytes: 1 << 20,
    itemSizeMax: 1 << 20,
    evict: true,
    casEnabled: true,
  });
  const { app } = createHttpDoor({
    store,
    config: parsed.config,
    connections: new Set(),
    limits: new Limits(parsed.config.maxInflightBytes),
    requestShutdown() {},
  });
  const routes = new Set(
    app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
  );
  const documented = new Set<string>();
  for (const [path, ops] of Object.entries(OPENAPI.paths)) {
    for (const method of Object.keys(ops)) {
      if (method === "head") {
        assert.ok(routes.has(`GET ${path}`), `HEAD ${path} documented without a GET`);
        continue;
      }
      documented.add(`${method.toUpperCase()} ${path}`);
    }
  }
  assert.deepEqual([...documented].sort(), [...routes].sort());
  // Every $ref resolves.
  const refs = JSON.stringify(OPENAPI).match(/"#\/components\/schemas\/\w+"/g) ?? [];
  for (const ref of refs) {
    const name = ref.slice(1, -1).split("/").pop()!;
    assert.ok(name in OPENAPI.components.schemas, ref);
  }
});

Deno.test("an HTTP door on a non-loopback address without a token logs a warning", async () => {
  for (const [args, warned] of [[[], false], [["--http-token", "t"], false]] as const) {
    const server = await startOurs([...args]);
    try {
      await httpReady(`http://127.0.0.1:${server.httpPort}`);
      assert.equal(/without a token/.test(server.output()), warned);
    } finally {
      await server.stop();
    }
  }
  const open = await startOurs(["--http-host", "0.0.0.0"]);
  try {
    await httpReady(`http://127.0.0.1:${open.httpPort}`);
    for (let i = 0; i < 50 && !/without a token/.test(open.output()); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.match(open.output(), /0\.0\.0\.0"? without a token/);
  } finally {
    await open.stop();
  }
});
