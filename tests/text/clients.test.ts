/**
 * Real memcached client libraries, unchanged, against this server: pymemcache and pylibmc (Python),
 * Cache::Memcached::Fast (Perl) and the npm `memcached` client.
 */
import assert from "node:assert/strict";
import { type Child, startOurs } from "../helpers/server.ts";

const here = new URL("../clients/", import.meta.url).pathname;
// Debian's python3 carries the client packages; a pyenv python3 earlier on PATH does not.
const PYTHON = "/usr/bin/python3";

async function hasModule(cmd: string, args: string[]): Promise<boolean> {
  try {
    const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output();
    return r.code === 0;
  } catch {
    return false;
  }
}

async function runScript(cmd: string, args: string[]): Promise<string> {
  const r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  const text = dec.decode(r.stdout) + dec.decode(r.stderr);
  assert.equal(r.code, 0, text);
  return text;
}

async function withServer(fn: (s: Child) => Promise<void>) {
  const server = await startOurs();
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/** True (said loudly) when a client library is missing: its test is then ignored. */
async function lacks(cmd: string, args: string[], what: string, pkg: string): Promise<boolean> {
  if (await hasModule(cmd, args)) return false;
  console.warn(`!!! IGNORED: ${what} is not installed (apt-get install ${pkg}) !!!`);
  return true;
}

const NO_PYMEMCACHE = await lacks(
  PYTHON,
  ["-c", "import pymemcache"],
  "pymemcache",
  "python3-pymemcache",
);
const NO_PYLIBMC = await lacks(PYTHON, ["-c", "import pylibmc"], "pylibmc", "python3-pylibmc");
const NO_PERL_CLIENT = await lacks(
  "perl",
  ["-MCache::Memcached::Fast", "-e", "1"],
  "Cache::Memcached::Fast",
  "libcache-memcached-fast-perl",
);

Deno.test(
  "pymemcache works unchanged for every command it has",
  { ignore: NO_PYMEMCACHE },
  async () => {
    await withServer(async (s) => {
      const out = await runScript(PYTHON, [here + "pymemcache_check.py", String(s.port)]);
      assert.match(out, /^OK$/m);
    });
  },
);

Deno.test(
  "pylibmc (libmemcached, text protocol) works unchanged",
  { ignore: NO_PYLIBMC },
  async () => {
    await withServer(async (s) => {
      const out = await runScript(PYTHON, [here + "pylibmc_check.py", String(s.port)]);
      assert.match(out, /^OK$/m);
    });
  },
);

Deno.test("Cache::Memcached::Fast (Perl) works unchanged", { ignore: NO_PERL_CLIENT }, async () => {
  await withServer(async (s) => {
    const out = await runScript("perl", [here + "cache_memcached_fast_check.pl", String(s.port)]);
    assert.match(out, /^OK$/m);
  });
});

Deno.test("the npm memcached client works unchanged", async () => {
  await withServer(async (s) => {
    // The package assigns Object.prototype.__proto__, which Deno allows only with --unsafe-proto.
    const out = await runScript(Deno.execPath(), [
      "run",
      // Test-only npm packages are locked apart, so that `deno task start` never fetches them.
      `--lock=${here}../deno.lock`,
      "--unsafe-proto",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      here + "npm_memcached_check.ts",
      String(s.port),
    ]);
    assert.match(out, /^OK$/m);
  });
});
