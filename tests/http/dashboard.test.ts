/** The dashboard's files and the stats event stream over HTTP (the browser tests drive the page). */
import assert from "node:assert/strict";
import { STREAM_STALL_MS } from "../../routes/stats_stream.ts";
import { RawClient } from "../helpers/client.ts";
import { call, httpReady } from "../helpers/http.ts";
import { contextFor, httpFor } from "../helpers/in_process.ts";
import { startOurs } from "../helpers/server.ts";

/** Reads SSE events from a response body; `next()` is null once the stream has ended. */
function events(body: ReadableStream<Uint8Array>) {
  // Read directly (a piped decoder would keep pulling while this test means not to read).
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  return {
    reader,
    async next(): Promise<{ event: string; data: any } | null> {
      for (;;) {
        const end = pending.indexOf("\n\n");
        if (end !== -1) {
          const block = pending.slice(0, end).split("\n");
          pending = pending.slice(end + 2);
          const field = (name: string) =>
            block.find((l) => l.startsWith(name + ": "))?.slice(name.length + 2);
          return { event: field("event") ?? "", data: JSON.parse(field("data") ?? "null") };
        }
        const { done, value } = await reader.read();
        if (done) return null;
        pending += decoder.decode(value, { stream: true });
      }
    },
  };
}

Deno.test("the page, its files and the icon are public, cached by ETag; the data is not", async () => {
  const server = await startOurs(["--http-token", "t0ken"]);
  const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
  try {
    const page = await call("GET", `${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    assert.match(page.text, /<script type="module" src="\/dashboard\/main.js">/);
    const etag = page.headers.get("etag")!;
    assert.match(etag, /^"[\w-]+"$/);
    const again = await call("GET", `${base}/`, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal(again.bytes.length, 0);
    assert.equal(
      (await call("GET", `${base}/`, { headers: { "if-none-match": '"other"' } })).status,
      200,
    );

    // Every file the page names is served, uPlot included.
    const names = [...page.text.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]);
    for (const module of ["api.js", "charts.js", "keys.js", "panels.js"]) {
      names.push(`/dashboard/${module}`);
    }
    for (const path of names) {
      const res = await call("GET", base + path);
      assert.equal(res.status, 200, path);
      assert.ok(res.headers.get("etag"), path);
    }
    assert.match((await call("GET", `${base}/dashboard/uPlot.iife.min.js`)).text, /uPlot/);
    const icon = await call("GET", `${base}/favicon.ico`);
    assert.equal(icon.headers.get("content-type"), "image/svg+xml");
    assert.equal((await call("GET", `${base}/dashboard/nope.js`)).status, 404);

    for (const path of ["/stats", "/stats/stream", "/keys", "/stats/settings"]) {
      assert.equal((await call("GET", base + path)).status, 401, path);
    }
    const stream = await fetch(`${base}/stats/stream`, {
      headers: { authorization: "Bearer t0ken" },
    });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get("content-type")!, /^text\/event-stream/);
    const first = await events(stream.body!).next();
    assert.equal(first?.event, "stats");
    await stream.body!.cancel().catch(() => {});
  } finally {
    await server.stop();
  }
});

Deno.test("/stats/stream sends a stats event every second that follows memcached traffic", async () => {
  const server = await startOurs(["-m", "8"]);
  const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
  const mc = await RawClient.connect(server.port);
  const res = await fetch(`${base}/stats/stream`);
  const stream = events(res.body!);
  try {
    const first = (await stream.next())!;
    assert.equal(first.data.stats.curr_items, 0);
    assert.equal(first.data.stats.limit_maxbytes, 8 * 1024 * 1024);
    assert.equal(typeof first.data.slabs.total_malloced, "number");
    assert.equal(await mc.call("set k 0 0 2\r\nhi\r\n"), "STORED\r\n");
    const second = (await stream.next())!;
    const gap = second.data.at - first.data.at;
    assert.ok(gap >= 900 && gap < 3000, `events ${gap} ms apart`);
    assert.equal(second.data.stats.curr_items, 1);
    assert.equal(second.data.stats.cmd_set, first.data.stats.cmd_set + 1);
    assert.equal(second.data.slabs["1:used_chunks"], 1);
  } finally {
    await stream.reader.cancel();
    mc.conn.close();
    await server.stop();
  }
});

Deno.test("a stopping server ends its event streams and exits", async () => {
  const server = await startOurs([]);
  const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
  const res = await fetch(`${base}/stats/stream`);
  const stream = events(res.body!);
  assert.ok(await stream.next());
  const exited = server.stop();
  let ended = false;
  const timeout = setTimeout(() => server.process.kill("SIGKILL"), 5000);
  try {
    for (;;) {
      try {
        if ((await stream.next()) === null) break;
      } catch {
        break; // the connection closed under the read
      }
    }
    ended = true;
    const status = await exited;
    assert.equal(status.code, 0, "killed: the server did not stop with a stream open");
  } finally {
    clearTimeout(timeout);
  }
  assert.ok(ended);
});

Deno.test("a stream client that does not read is dropped, not queued for", async () => {
  const stopping = new AbortController();
  const http = httpFor({ ...contextFor(), stopping: stopping.signal });
  const res = await http(new Request("http://localhost/stats/stream"));
  const stream = events(res.body!);
  try {
    assert.ok(await stream.next());
    // Reads nothing for longer than the server waits, then finds the stream ended after at most
    // the one event that was waiting to be taken.
    await new Promise((r) => setTimeout(r, STREAM_STALL_MS + 2500));
    let after = 0;
    const deadline = setTimeout(() => stopping.abort(), 3000);
    while ((await stream.next()) !== null) after++;
    clearTimeout(deadline);
    assert.equal(stopping.signal.aborted, false, "the stream was still open");
    assert.ok(after <= 2, `${after} events were queued`);
  } finally {
    stopping.abort();
    await stream.reader.cancel();
  }
});
