/**
 * `lru_crawler mgdump`, which memcached 1.6.18 does not have (it arrived in 1.6.19, whose format
 * this follows): one `mg <key>` line per live key, then `EN`; refused with -X like metadump.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { startOurs } from "../helpers/server.ts";

async function withClient(args: string[], body: (c: RawClient) => Promise<void>) {
  const server = await startOurs(args);
  const client = await RawClient.connect(server.port);
  try {
    await body(client);
  } finally {
    client.close();
    await server.stop();
  }
}

Deno.test("lru_crawler mgdump lists every live key as an mg request", async () => {
  await withClient([], async (c) => {
    // Read up to a sentinel: a read abandoned on timeout (readFor) would eat the next answer.
    const sets = "set a 0 0 1\r\nx\r\nset b:1 0 0 1\r\nx\r\nset gone 0 -1 1\r\nx\r\n";
    await c.call(sets + "version\r\n", "VERSION 1.6.18\r\n");
    const dump = await c.call("lru_crawler mgdump all\r\n", "EN\r\n");
    assert.deepEqual(dump.split("\r\n").sort(), ["", "EN", "mg a", "mg b:1"]);
    assert.equal(await c.call("lru_crawler mgdump 99\r\n"), "BADCLASS invalid class id\r\n");
  });
});

Deno.test("-X refuses mgdump", async () => {
  await withClient(["-X"], async (c) => {
    assert.equal(await c.call("lru_crawler mgdump all\r\n"), "ERROR mgdump not allowed\r\n");
  });
});
