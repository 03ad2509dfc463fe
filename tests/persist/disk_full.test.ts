/**
 * A disk that fills up mid-run, made with a file-size limit on the server process (`prlimit
 * --fsize`; the server handles SIGXFSZ, so a write past the limit fails with EFBIG): the cache
 * keeps serving, counts persist_errors, logs the error once per interval and /health says so.
 * With PERSIST_LONG=1 the limit is then lifted, and the server must recover by itself (its retry
 * runs every 10 s) and leave files from which a restart has every item.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { call, httpReady } from "../helpers/http.ts";
import { freePort, RUN_MAIN, startOurs, which } from "../helpers/server.ts";

const LONG = Deno.env.get("PERSIST_LONG") === "1";

const prlimit = which("prlimit");
if (prlimit === null) console.warn("\n!!! SKIPPED: prlimit is not installed (util-linux) !!!\n");

Deno.test({
  name: "a full disk leaves the cache serving, counted and reported by /health",
  ignore: prlimit === null,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    let recovered = false;
    const dir = await Deno.makeTempDir();
    const port = freePort();
    const httpPort = freePort();
    const child = new Deno.Command(prlimit!, {
      args: [
        // A soft limit (the hard one stays unlimited), so that it can be lifted while running.
        "--fsize=3000000:unlimited",
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
      if (LONG) {
        // Room again: the next retry (every 10 s) rewrites the log and the files are whole again.
        await new Deno.Command(prlimit!, {
          args: ["--pid", String(child.pid), "--fsize=unlimited"],
        }).output();
        let status = "";
        for (let i = 0; i < 150 && status !== "ok"; i++) {
          await new Promise((r) => setTimeout(r, 100));
          const rows = await mc.call("stats persistence\r\n", "END\r\n");
          status = /STAT persist_status (\w+)/.exec(rows)![1];
        }
        assert.equal(
          status,
          "ok",
          `recovered once writes succeed: ${await mc.call("stats persistence\r\n", "END\r\n")}`,
        );
        recovered = true;
      }
      mc.close();
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    const text = (await output).join("");
    assert.equal(text.match(/persistence: .*File too large/g)?.length, 1, text);
    if (recovered) {
      // Killed after recovering: a restart from the rewritten files has every item.
      const again = await startOurs(["--persist-log", dir]);
      const mc = await RawClient.connect(again.port);
      for (let i = 0; i < 60; i++) {
        assert.match(await mc.call(`get big${i}\r\n`, "END\r\n"), /^VALUE /, `big${i}`);
      }
      mc.close();
      await again.stop();
    }
    await Deno.remove(dir, { recursive: true });
  },
});
