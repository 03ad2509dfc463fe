/** The npm `memjs` client (binary protocol only), unchanged, against this server. */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
// Tests pin their client libraries inline; the server itself does not depend on them.
// deno-lint-ignore no-import-prefix
import memjs from "npm:memjs@1.3.2";
import { type Child, startOurs } from "../helpers/server.ts";

const quiet = { log() {} };
// memjs keeps sockets and timers of its own; closing the client ends them.
const leaky = { sanitizeOps: false, sanitizeResources: false };

function client(server: Child, extra: Record<string, unknown> = {}) {
  return memjs.Client.create(`127.0.0.1:${server.port}`, {
    retries: 0,
    timeout: 2,
    logger: quiet,
    ...extra,
  });
}

Deno.test({
  name: "memjs: set, get, add, replace, append, delete, incr, decr, touch, stats, flush",
  ...leaky,
  async fn() {
    const server = await startOurs();
    const mc = client(server);
    try {
      assert.equal(await mc.set("greeting", "hello", { expires: 0 }), true);
      const got = await mc.get("greeting");
      assert.equal(got.value?.toString(), "hello");
      assert.deepEqual([...got.flags!], [0, 0, 0, 0]);
      assert.equal((await mc.get("missing")).value, null);

      const bytes = Buffer.from([0, 255, 13, 10, 1]);
      await mc.set("bytes", bytes, {});
      assert.deepEqual([...(await mc.get("bytes")).value!], [...bytes]);

      assert.equal(await mc.add("greeting", "again", {}), false);
      assert.equal(await mc.add("fresh", "new", {}), true);
      assert.equal(await mc.replace("nobody", "x", {}), false);
      assert.equal(await mc.replace("fresh", "newer", {}), true);
      assert.equal(await mc.append("greeting", ", world"), true);
      assert.equal((await mc.get("greeting")).value?.toString(), "hello, world");
      // memjs 1.3.2's prepend sends the append opcode (real memcached appends too), so it is
      // not a test of this server; the packet comparison with memcached covers prepend.

      assert.deepEqual(await mc.increment("counter", 5, { initial: 10 }), {
        success: true,
        value: 10,
      });
      assert.deepEqual(await mc.increment("counter", 5, {}), { success: true, value: 15 });
      assert.deepEqual(await mc.decrement("counter", 20, {}), { success: true, value: 0 });

      assert.equal(await mc.touch("fresh", 100), true);
      assert.equal(await mc.touch("nobody", 100), false);

      assert.equal(await mc.delete("fresh"), true);
      assert.equal(await mc.delete("fresh"), false);
      assert.equal((await mc.get("fresh")).value, null);

      const stats = await new Promise<Record<string, string>>((resolve, reject) =>
        mc.stats((err: unknown, _server: string, stats: Record<string, string>) =>
          err ? reject(err) : resolve(stats)
        )
      );
      assert.equal(stats.version, "1.6.18");
      assert.equal(stats.curr_items, "3");

      assert.deepEqual(await mc.flush(), { [`127.0.0.1:${server.port}`]: true });
      assert.equal((await mc.get("greeting")).value, null);
    } finally {
      mc.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "memjs: SASL PLAIN with the right password works, with a wrong one is refused",
  ...leaky,
  async fn() {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/passwords`;
    await Deno.writeTextFile(file, "alice:s3cret\n");
    const server = await startOurs(["-S", "-o", `sasl_password_file=${file}`, "--http-token", "t"]);
    const good = client(server, { username: "alice", password: "s3cret" });
    const bad = client(server, { username: "alice", password: "wrong" });
    const none = client(server);
    try {
      assert.equal(await good.set("k", "v", {}), true);
      assert.equal((await good.get("k")).value?.toString(), "v");
      await assert.rejects(() => bad.get("k"), /authentication failed/);
      // No credentials: the server refuses the command and hangs up.
      await assert.rejects(() => none.get("k"));
    } finally {
      good.close();
      bad.close();
      none.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
