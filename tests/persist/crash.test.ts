/**
 * Crash tests: writers get acknowledgements, the server is killed with SIGKILL (some kills land
 * while the log is being rewritten), and the restarted server must hold every acknowledged write
 * (--fsync always) or every one older than about a second (everysec). At -t 2 the writers land on
 * both threads and all of them also increment one counter, so records of one key made on different
 * threads must reach the log in the order they were made. PERSIST_LONG=1 runs the loop of kills
 * long (20+); the suite runs a few.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { type Child, startOurs } from "../helpers/server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const LONG = Deno.env.get("PERSIST_LONG") === "1";
const WRITERS = 6;

interface Ack {
  key: string;
  value: string;
  at: number;
}

/**
 * Each writer sets its own keys (and overwrites one of its own, and increments one of all
 * writers') until `stop` flips.
 */
async function write(port: number, round: number, stop: { now: boolean }): Promise<Ack[]> {
  const acks: Ack[] = [];
  const counter = `r${round}lastcount`;
  const setup = await RawClient.connect(port);
  assert.equal(await setup.call(`set ${counter} 0 0 1\r\n0\r\n`), "STORED\r\n");
  setup.close();
  await Promise.all(Array.from({ length: WRITERS }, async (_, w) => {
    const mc = await RawClient.connect(port);
    try {
      for (let i = 0; !stop.now; i++) {
        const key = `r${round}w${w}i${i}`;
        const value = `${key}:${"x".repeat(i % 200)}`;
        const reply = await mc.call(`set ${key} 0 0 ${value.length}\r\n${value}\r\n`);
        if (reply !== "STORED\r\n") break; // the kill cut the connection
        acks.push({ key, value, at: performance.now() });
        if (i % 10 === 9) {
          const last = `${i}`;
          if (
            await mc.call(`set r${round}last${w} 0 0 ${last.length}\r\n${last}\r\n`) !==
              "STORED\r\n"
          ) {
            break;
          }
          acks.push({ key: `r${round}last${w}`, value: last, at: performance.now() });
          const count = await mc.call(`incr ${counter} 1\r\n`);
          if (!/^\d+\r\n$/.test(count)) break;
          acks.push({ key: counter, value: count.trim(), at: performance.now() });
        }
      }
    } catch {
      /* the kill cut the connection */
    } finally {
      mc.close();
    }
  }));
  return acks;
}

/** Reads the acknowledged keys back, 100 to a get; returns the ones missing or wrong. */
async function missing(server: Child, acks: Ack[]): Promise<string[]> {
  // Per key the highest acknowledged: the shared counter's acknowledgements arrive out of order.
  const latest = new Map<string, Ack>();
  for (const a of acks) {
    const seen = latest.get(a.key);
    if (seen === undefined || !a.key.includes("last") || Number(a.value) > Number(seen.value)) {
      latest.set(a.key, a);
    }
  }
  const keys = ["pre0", "pre19999", ...latest.keys()];
  const found = new Map<string, string>();
  const mc = await RawClient.connect(server.port);
  try {
    for (let i = 0; i < keys.length; i += 100) {
      const got = await mc.call(`get ${keys.slice(i, i + 100).join(" ")}\r\n`, "END\r\n");
      for (const m of got.matchAll(/^VALUE (\S+) 0 \d+\r\n(.*)\r$/gm)) found.set(m[1], m[2]);
    }
  } finally {
    mc.close();
  }
  const bad = ["pre0", "pre19999"].filter((k) => !found.has(k));
  for (const a of latest.values()) {
    const value = found.get(a.key);
    if (value === undefined) bad.push(`${a.key}: missing`);
    else if (a.key.includes("last") ? Number(value) < Number(a.value) : value !== a.value) {
      bad.push(`${a.key}: ${value} instead of ${a.value}`);
    }
  }
  return bad;
}

async function preload(port: number, count: number): Promise<void> {
  const mc = await RawClient.connect(port);
  let batch = "";
  for (let i = 0; i < count; i++) batch += `set pre${i} 0 0 100 noreply\r\n${"p".repeat(100)}\r\n`;
  await mc.send(batch);
  await mc.call("mn\r\n", "MN\r\n");
  mc.close();
}

/** True while a snapshot is being written (its temporary file exists). */
function rewriteUnderWay(dir: string): boolean {
  for (const e of Deno.readDirSync(dir)) if (e.name.endsWith(".tmp")) return true;
  return false;
}

async function killLoop(
  fsync: "always" | "everysec",
  kills: number,
  runMs: number,
  graceMs: number,
  threads = 1,
) {
  const dir = await Deno.makeTempDir();
  // Room for every write of the long run (~16k sets a second): at the default -m 64 the cache
  // starts evicting after ~25 s of writes, and an evicted write is no persistence loss.
  const args = ["-m", "1024", "-t", `${threads}`, "--persist-log", dir, "--fsync", fsync];
  args.push("--persist-rewrite-size", "256k");
  let server = await startOurs(args);
  await preload(server.port, 20000);
  const all: Ack[] = [];
  let duringRewrite = 0;
  for (let round = 0; round < kills; round++) {
    const stop = { now: false };
    const writing = write(server.port, round, stop);
    await new Promise((r) => setTimeout(r, runMs * (1 + Math.random())));
    // Every other round waits for a rewrite to be under way, so that the kill lands inside it.
    for (let i = 0; round % 2 === 1 && i < 600 && !rewriteUnderWay(dir); i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const killedAt = performance.now();
    const status = server.stop("SIGKILL");
    if (rewriteUnderWay(dir)) duringRewrite++;
    await status;
    stop.now = true;
    const acks = await writing;
    all.push(...acks.filter((a) => a.at <= killedAt - graceMs));
    server = await startOurs(args);
    const bad = await missing(server, all);
    assert.deepEqual(bad.slice(0, 5), [], `round ${round}: ${bad.length} acknowledged writes lost`);
  }
  await server.stop();
  await Deno.remove(dir, { recursive: true });
  console.log(
    `${kills} kills, ${duringRewrite} during a log rewrite, ${all.length} writes checked`,
  );
  return duringRewrite;
}

for (const threads of [1, 2]) {
  Deno.test(
    `-t ${threads} --fsync always: no acknowledged write is lost to kill -9`,
    opts,
    async () => {
      const during = await killLoop("always", LONG ? 20 : 3, 400, 0, threads);
      assert.ok(during > 0, "some kills landed during a rewrite");
    },
  );

  Deno.test(
    `-t ${threads} --fsync everysec: kill -9 loses at most about the last second`,
    opts,
    async () => {
      await killLoop("everysec", LONG ? 20 : 2, 1500, 1500, threads);
    },
  );
}
