/** SIGTERM with clients that would hold the exit forever: it stops within the grace period. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { sleep } from "../helpers/hostile.ts";
import { startOurs } from "../helpers/server.ts";

Deno.test("SIGTERM exits 0 within the grace period despite an incomplete body and an unread answer", async () => {
  const server = await startOurs(["--shutdown-grace", "500"]);
  const clients: RawClient[] = [];
  try {
    const text = await RawClient.connect(server.port);
    clients.push(text);
    await text.send(`set big 0 0 500000\r\n${"x".repeat(500_000)}\r\n`);
    assert.equal(await text.readUntil((t) => t.endsWith("\r\n")), "STORED\r\n");
    await text.send("get big\r\n".repeat(1000)); // 500 MB of answers nobody reads
    const body = await RawClient.connect(server.httpPort);
    clients.push(body);
    await body.send("PUT /keys/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc");
    const unread = await RawClient.connect(server.httpPort);
    clients.push(unread);
    await unread.send("GET /keys/big HTTP/1.1\r\nHost: x\r\n\r\n".repeat(50));
    const idle = await RawClient.connect(server.httpPort);
    clients.push(idle);
    await sleep(300);

    const started = Date.now();
    const status = await Promise.race([
      server.stop("SIGTERM"),
      sleep(8000).then(() => null),
    ]);
    assert.ok(status !== null, `still running 8 s after SIGTERM\n${server.output()}`);
    assert.equal(status.code, 0, server.output());
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    assert.match(server.output(), /stopped/);
  } finally {
    for (const c of clients) c.close();
    await server.stop("SIGKILL");
  }
});
