/**
 * The introspection views over HTTP: the SSE watch stream, the streamed key dump, per-prefix and
 * hot-key stats, the token and -X / -W.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { call, withHttpServer } from "../helpers/http.ts";

/** 1M keys with INTROSPECTION_LONG=1; fewer by default, to keep the suite short. */
const DUMP_KEYS = Deno.env.get("INTROSPECTION_LONG") === "1" ? 1_000_000 : 50_000;

/** Reads SSE `data:` lines until `done` says enough, or the time runs out. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  done: (data: string[]) => boolean,
  ms = 5000,
): Promise<string[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const data: string[] = [];
  let text = "";
  const deadline = Date.now() + ms;
  try {
    while (!done(data) && Date.now() < deadline) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<null>((r) => setTimeout(() => r(null), deadline - Date.now())),
      ]);
      if (chunk === null || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
      let nl;
      while ((nl = text.indexOf("\n")) !== -1) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (line.startsWith("data: ")) data.push(line.slice(6));
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return data;
}

async function statValue(mc: RawClient, name: string): Promise<number> {
  const stats = await mc.call("stats\r\n", "END\r\n");
  return Number(new RegExp(`STAT ${name} (\\d+)`).exec(stats)![1]);
}

Deno.test("GET /watch: a watcher sees a write made over memcached", async () => {
  await withHttpServer([], async (base, mc) => {
    const res = await fetch(`${base}/watch?events=mutations,fetchers`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const events = readEvents(res.body!, (d) => d.some((l) => l.includes("type=item_store")));
    // The first event says the watcher is registered; then the write.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await mc.call("set seen:1 0 0 2\r\nhi\r\n"), "STORED\r\n");
    const data = await events;
    assert.ok(
      data.some((l) => /^ts=\d+\.\d+ gid=\d+ type=item_get key=seen%3A1 status=not_found/.test(l)),
    );
    assert.ok(
      data.some((l) => /type=item_store key=seen%3A1 status=stored cmd=set .* size=2$/.test(l)),
    );
  });
});

Deno.test("GET /watch: unknown classes are a 400, -W is a 403", async () => {
  await withHttpServer([], async (base) => {
    assert.equal((await call("GET", `${base}/watch?events=nope`)).status, 400);
  });
  await withHttpServer(["-W"], async (base) => {
    assert.equal((await call("GET", `${base}/watch`)).status, 403);
  });
});

Deno.test("GET /watch: a watcher that does not read is dropped, not buffered without bound", async () => {
  // An 8 KB watcher buffer: once the socket buffers are full too, the watcher must go.
  await withHttpServer(["-o", "watcher_logbuf_size=8"], async (base, mc) => {
    const res = await fetch(`${base}/watch?events=mutations`);
    assert.equal(res.status, 200);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await statValue(mc, "log_watchers"), 1);
    // About 800 bytes per event (a 250-byte key, URI-encoded): 40 MB of events in all, far more
    // than the kernel's socket buffers hold, so the unread stream must back up.
    const key = "%".repeat(250);
    let dropped = false;
    for (let round = 0; round < 50 && !dropped; round++) {
      await mc.send(`set ${key} 0 0 1 noreply\r\nx\r\n`.repeat(1000));
      dropped = (await statValue(mc, "log_watchers")) === 0;
    }
    assert.ok(dropped, "the slow watcher was dropped");
    const rss = await statValue(mc, "rss_bytes");
    assert.ok(rss < 512 * 1024 * 1024, `memory stayed bounded (rss ${rss})`);
    await res.body?.cancel();
  });
});

Deno.test(`GET /keys?stream=ndjson streams ${DUMP_KEYS} keys while other clients are answered`, async () => {
  await withHttpServer(["-m", "1024"], async (base, mc) => {
    const batch = 10_000;
    for (let i = 0; i < DUMP_KEYS; i += batch) {
      let req = "";
      for (let j = i; j < Math.min(DUMP_KEYS, i + batch); j++) {
        req += `set k:${j} 7 0 1 noreply\r\nv\r\n`;
      }
      await mc.send(req);
    }
    assert.equal(await mc.call("get k:0\r\n", "END\r\n"), "VALUE k:0 7 1\r\nv\r\nEND\r\n");

    const res = await fetch(`${base}/keys?stream=ndjson`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-ndjson");
    let finished = false;
    let answeredDuring = 0;
    const other = await RawClient.connect((mc.conn.remoteAddr as Deno.NetAddr).port);
    const prober = (async () => {
      while (!finished) {
        if ((await other.call("version\r\n")) === "VERSION 1.6.18\r\n" && !finished) {
          answeredDuring++;
        }
      }
    })();
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let lines = 0;
    let first = "";
    let rest = "";
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = rest + decoder.decode(value, { stream: true });
      const parts = text.split("\n");
      rest = parts.pop()!;
      if (first === "" && parts.length > 0) first = parts[0];
      lines += parts.length;
      // A slow reader: the server must wait for it (not buffer the whole dump), and others go on.
      await new Promise((r) => setTimeout(r, 2));
    }
    finished = true;
    await prober;
    other.close();
    assert.equal(lines, DUMP_KEYS);
    const item = JSON.parse(first);
    assert.match(item.key, /^k:\d+$/);
    assert.equal(item.size, 1);
    assert.equal(item.flags, 7);
    assert.equal(item.ttl, -1);
    assert.ok(answeredDuring > 0, "another client was answered while the dump streamed");
  });
});

Deno.test("GET /keys?stream=ndjson is refused with -X; the plain listing still works", async () => {
  await withHttpServer(["-X"], async (base, mc) => {
    await mc.call("set a 0 0 1\r\nx\r\n");
    const res = await call("GET", `${base}/keys?stream=ndjson`);
    assert.equal(res.status, 403);
    assert.equal(JSON.parse(res.text).error, "dump_disabled");
    assert.deepEqual(JSON.parse((await call("GET", `${base}/keys`)).text).keys, ["a"]);
  });
});

Deno.test("GET /stats/detail: per-prefix counts as JSON", async () => {
  await withHttpServer([], async (base, mc) => {
    assert.equal(await mc.call("stats detail on\r\n"), "OK\r\n");
    await mc.call("set user:1 0 0 1\r\nx\r\n");
    await mc.call("get user:1 user:2\r\n", "END\r\n");
    await mc.call("delete user:3\r\n");
    const body = JSON.parse((await call("GET", `${base}/stats/detail`)).text);
    assert.deepEqual(body, {
      enabled: true,
      delimiter: ":",
      dropped: 0,
      prefixes: { user: { get: 2, hit: 1, set: 1, del: 1 } },
    });
  });
});

Deno.test("GET /stats/hotkeys: the most read keys from the sampler, and stats hotkeys", async () => {
  await withHttpServer([], async (base, mc) => {
    await mc.call("set hot 0 0 1\r\nx\r\nset warm 0 0 1\r\nx\r\n");
    let req = "";
    for (let i = 0; i < 3200; i++) req += i % 4 === 0 ? "get warm\r\n" : "get hot\r\n";
    for (let i = 0; i < 3000; i++) req += `get cold:${i}\r\n`;
    await mc.send(req + "version\r\n");
    await mc.readUntil((t) => t.endsWith("VERSION 1.6.18\r\n"));
    const body = JSON.parse((await call("GET", `${base}/stats/hotkeys?top=2`)).text);
    assert.equal(body.sample_every, 32);
    assert.equal(body.keys.length, 2);
    assert.deepEqual(body.keys.map((k: { key: string }) => k.key), ["hot", "warm"]);
    assert.ok(body.keys[0].estimated_reads > body.keys[1].estimated_reads);
    assert.equal((await call("GET", `${base}/stats/hotkeys?top=0`)).status, 400);
    assert.match(await mc.call("stats hotkeys 1\r\n", "END\r\n"), /^STAT hot \d+\r\nEND\r\n$/);
  });
});

Deno.test("the introspection routes need the token when one is set", async () => {
  await withHttpServer(["--http-token", "s3cret"], async (base) => {
    for (const path of ["/watch", "/keys?stream=ndjson", "/stats/detail", "/stats/hotkeys"]) {
      assert.equal((await call("GET", `${base}${path}`)).status, 401, path);
    }
    const ok = await call("GET", `${base}/stats/detail`, {
      headers: { authorization: "Bearer s3cret" },
    });
    assert.equal(ok.status, 200);
  });
});
