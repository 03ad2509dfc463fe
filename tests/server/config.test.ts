import assert from "node:assert/strict";
import { type Config, parseConfig, parseSize, UsageError } from "../../src/config.ts";

function config(args: string[], env: Record<string, string> = {}): Config {
  const r = parseConfig(args, env);
  if (!("config" in r)) throw new Error("expected a config");
  return r.config;
}

Deno.test("defaults are memcached's, on loopback", () => {
  const c = config([]);
  assert.equal(c.port, 11211);
  assert.equal(c.listen, "127.0.0.1");
  assert.equal(c.maxBytes, 64 * 1024 * 1024);
  assert.equal(c.maxConnections, 1024);
  assert.equal(c.itemSizeMax, 1024 * 1024);
  assert.equal(c.evictions, true);
  assert.equal(c.casEnabled, true);
  assert.equal(c.httpPort, 8000);
  assert.equal(c.httpHost, "127.0.0.1");
  assert.equal(c.httpToken, null);
});

Deno.test("a memcached command line parses as memcached would", () => {
  const c = config([
    "-p",
    "11311",
    "-l",
    "0.0.0.0",
    "-m",
    "128",
    "-c",
    "10",
    "-I",
    "2m",
    "-M",
    "-C",
    "-A",
    "-vv",
    "-t",
    "4",
    "-u",
    "memcache",
    "-o",
    "idle_timeout=30,modern",
    "-B",
    "ascii",
  ]);
  assert.equal(c.port, 11311);
  assert.equal(c.listen, "0.0.0.0");
  assert.equal(c.maxBytes, 128 * 1024 * 1024);
  assert.equal(c.maxConnections, 10);
  assert.equal(c.itemSizeMax, 2 * 1024 * 1024);
  assert.equal(c.evictions, false);
  assert.equal(c.casEnabled, false);
  assert.equal(c.shutdownEnabled, true);
  assert.equal(c.verbosity, 2);
  assert.equal(c.idleTimeout, 30);
  assert.equal(c.protocol, "ascii");
  assert.equal(c.threads, 4);
  assert.ok(!c.ignored.some((f) => f.startsWith("-t")));
  assert.ok(c.ignored.some((f) => f.startsWith("-u")));
  assert.ok(c.ignored.some((f) => f.startsWith("-o modern")));
});

Deno.test("a unix socket turns TCP off unless -p is given; our own long options", () => {
  assert.equal(config(["-s", "/tmp/x.sock"]).port, 0);
  assert.equal(config(["-s", "/tmp/x.sock", "-p", "5"]).port, 5);
  assert.equal(config(["-a", "755", "-s", "/tmp/x"]).unixMask, 0o755);
  const c = config(["--http-port", "0", "--http-host", "::1", "--http-token", "t"]);
  assert.equal(c.httpPort, 0);
  assert.equal(c.httpHost, "::1");
  assert.equal(c.httpToken, "t");
  assert.equal(config([], { MEMCACHED_HTTP_TOKEN: "env" }).httpToken, "env");
});

Deno.test("-t: 1 by default, 1 to 64 threads, with either kind of persistence", () => {
  assert.equal(config([]).threads, 1);
  assert.equal(config(["-t", "64"]).threads, 64);
  assert.throws(() => parseConfig(["-t", "65"]), UsageError);
  assert.throws(() => parseConfig(["-t", "0"]), UsageError);
  assert.equal(config(["-t", "2", "--persist-log", "/tmp/x"]).threads, 2);
  assert.equal(config(["-t", "2", "-e", "/tmp/x"]).threads, 2);
  assert.equal(config(["-t", "1", "--persist-log", "/tmp/x"]).threads, 1);
});

Deno.test("bad flags are usage errors", () => {
  assert.throws(() => parseConfig(["--nope"]), UsageError);
  assert.throws(() => parseConfig(["-m", "x"]), UsageError);
  assert.throws(() => parseConfig(["-p", "70000"]), UsageError);
  assert.throws(() => parseConfig(["-I", "1t"]), UsageError);
  assert.throws(() => parseConfig(["-B", "udp"]), UsageError);
  assert.deepEqual(parseConfig(["-h"]), { exit: "help" });
  assert.deepEqual(parseConfig(["-V"]), { exit: "version" });
});

Deno.test("sizes take k, m and g suffixes", () => {
  assert.equal(parseSize("512"), 512);
  assert.equal(parseSize("1k"), 1024);
  assert.equal(parseSize("1M"), 1024 * 1024);
  assert.equal(parseSize("1g"), 1024 ** 3);
  assert.equal(parseSize("1.5m"), null);
});
