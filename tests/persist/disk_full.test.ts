/**
 * A disk that fills up mid-run, made with a file-size limit on the server process (`prlimit
 * --fsize`; the server handles SIGXFSZ, so a write past the limit fails with EFBIG): the cache
 * keeps serving, counts persist_errors, logs the error once per interval and /health says so.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { call, httpReady } from "../helpers/http.ts";
import { freePort, RUN_MAIN, which } from "../helpers/server.ts";

const prlimit = which("prlimit");
if (prlimit === null) console.warn("\n!!! SKIPPED: prlimit is not installed (util-linux) !!!\n");

Deno.test({
  name: "a full disk leaves the cache serving, counted and reported by /health",
  ignore: prlimit === null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const port = freePort();
    const httpPort = freePort();
    const child = new Deno.Command(prlimit!, {
      args: [
        "--fsize=3000000",
        Deno.execPath(),
        ...RUN_MAIN,
        ...["-p", String(port), "--http-port", String(httpPort)],
        ...["--persist-log", dir, "--fsync", "always", "-I", "200k"],
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = Promise.all([child.stdout, child.stderr].map((s) => new Response(s).text()));
    try {
      const base = await httpReady(`http://127.0.0.1:${httpPort}`);
      const mc = await RawClient.connect(port);
      const value = "v".repeat(100_000);
      for (let i = 0; i < 60; i++) {
        assert.equal(
          await mc.call(`set big${i} 0 0 ${value.length}\r\n${value}\r\n`),
          "STORED\r\n",
        );
      }
      assert.match(await mc.call("get big59\r\n", "END\r\n"), /^VALUE big59 0 100000\r\n/);
      const stats = await mc.call("stats persistence\r\n", "END\r\n");
      assert.match(stats, /STAT persist_status degraded\r\n/);
      const errors = Number(/STAT persist_errors (\d+)/.exec(stats)![1]);
      assert.ok(errors >= 1, stats);
      const health = await call("GET", `${base}/health`);
      assert.equal(health.status, 200);
      assert.equal(JSON.parse(health.text).persistence, "degraded");
      const metrics = await call("GET", `${base}/metrics`);
      assert.match(metrics.text, /^memcached_persist_errors_total [1-9]/m);
      mc.close();
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    const text = (await output).join("");
    assert.equal(text.match(/persistence: .*File too large/g)?.length, 1, text);
    await Deno.remove(dir, { recursive: true });
  },
});
