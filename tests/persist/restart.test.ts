/** Restart round trips: what a clean stop (or a logged crash) keeps, over every door. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { startOurs } from "../helpers/server.ts";
import { checkState, waitOutShortTtl, writeState } from "./state.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function roundTrip(
  args: string[],
  stop: (s: Awaited<ReturnType<typeof startOurs>>) => Promise<unknown>,
  expiry = false,
) {
  const first = await startOurs(args);
  let written;
  try {
    written = await writeState(first);
  } finally {
    await stop(first);
  }
  if (expiry) await waitOutShortTtl(written);
  const second = await startOurs(args);
  try {
    await checkState(second, written, expiry);
  } finally {
    await second.stop();
  }
}

for (const signal of ["SIGTERM", "SIGINT", "SIGUSR1"] as const) {
  Deno.test(`-e keeps every item across a ${signal} stop`, opts, async () => {
    const dir = await Deno.makeTempDir();
    await roundTrip(["-e", `${dir}/cache`], (s) => s.stop(signal), signal === "SIGTERM");
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("-e keeps every item across the shutdown command", opts, async () => {
  const dir = await Deno.makeTempDir();
  await roundTrip(["-e", `${dir}/cache`, "-A"], async (s) => {
    const mc = await RawClient.connect(s.port);
    await mc.send("shutdown\r\n");
    await s.process.status;
    mc.close();
    await s.stop();
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("-e is good for one restart: a crash after loading it starts empty", opts, async () => {
  const dir = await Deno.makeTempDir();
  const args = ["-e", `${dir}/cache`];
  const first = await startOurs(args);
  const mc = await RawClient.connect(first.port);
  assert.equal(await mc.call("set k 0 0 1\r\nv\r\n"), "STORED\r\n");
  mc.close();
  await first.stop();
  const second = await startOurs(args);
  const mc2 = await RawClient.connect(second.port);
  assert.match(await mc2.call("get k\r\n", "END\r\n"), /VALUE k 0 1/);
  mc2.close();
  await second.stop("SIGKILL");
  const third = await startOurs(args);
  const mc3 = await RawClient.connect(third.port);
  assert.equal(await mc3.call("get k\r\n", "END\r\n"), "END\r\n");
  mc3.close();
  await third.stop();
  await Deno.remove(dir, { recursive: true });
});

for (const fsync of ["always", "everysec"]) {
  Deno.test(
    `--persist-log --fsync ${fsync} keeps every item across a clean stop`,
    opts,
    async () => {
      const dir = await Deno.makeTempDir();
      await roundTrip(["--persist-log", dir, "--fsync", fsync], (s) => s.stop());
      await Deno.remove(dir, { recursive: true });
    },
  );
}

Deno.test("--persist-log --fsync always keeps every item across kill -9", opts, async () => {
  const dir = await Deno.makeTempDir();
  await roundTrip(["--persist-log", dir, "--fsync", "always"], (s) => s.stop("SIGKILL"), true);
  await Deno.remove(dir, { recursive: true });
});

for (const mode of [["-e"], ["--persist-log"]]) {
  Deno.test(
    `${mode[0]}: flush_all with a delay survives a restart; items made after it do not die`,
    opts,
    async () => {
      const dir = await Deno.makeTempDir();
      const args = mode[0] === "-e" ? ["-e", `${dir}/cache`] : ["--persist-log", dir];
      const first = await startOurs(args);
      const mc = await RawClient.connect(first.port);
      assert.equal(await mc.call("set gone 0 0 1\r\ng\r\n"), "STORED\r\n");
      assert.equal(await mc.call("flush_all\r\n"), "OK\r\n");
      assert.equal(await mc.call("set old 0 0 1\r\no\r\n"), "STORED\r\n");
      const flushedAt = performance.now();
      assert.equal(await mc.call("flush_all 2\r\n"), "OK\r\n");
      mc.close();
      await first.stop();
      const second = await startOurs(args);
      const mc2 = await RawClient.connect(second.port);
      assert.match(
        await mc2.call("get old gone\r\n", "END\r\n"),
        /^VALUE old 0 1\r\no\r\nEND\r\n$/,
      );
      await new Promise((r) => setTimeout(r, flushedAt + 3100 - performance.now()));
      assert.equal(await mc2.call("get old\r\n", "END\r\n"), "END\r\n");
      assert.equal(await mc2.call("set new 0 0 1\r\nn\r\n"), "STORED\r\n");
      mc2.close();
      await second.stop();
      const third = await startOurs(args);
      const mc3 = await RawClient.connect(third.port);
      assert.match(await mc3.call("get old new\r\n", "END\r\n"), /^VALUE new 0 1\r\nn\r\nEND\r\n$/);
      mc3.close();
      await third.stop();
      await Deno.remove(dir, { recursive: true });
    },
  );
}
