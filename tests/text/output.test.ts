/**
 * The response buffer keeps the size a connection's batches need instead of giving a grown buffer
 * back after every batch (that churn cost tens of MiB of RSS with big values), and still shrinks
 * once batches stay small.
 */
import assert from "node:assert/strict";
import { Output } from "../../src/protocol/output.ts";

Deno.test("a grown response buffer is kept while batches need it, then given back", () => {
  const out = new Output();
  const big = new Uint8Array(3 << 20);
  out.bytes(big);
  const grown = out.buf;
  assert.ok(grown.length >= big.length);
  out.reset();
  for (let i = 0; i < 200; i++) {
    out.bytes(big);
    out.reset();
  }
  assert.ok(out.buf === grown, "no new buffer while every batch is big");
  for (let i = 0; i < 64; i++) {
    out.ascii("END\r\n");
    out.reset();
  }
  assert.ok(out.buf.length <= 16384, "small batches give the grown buffer back");
});
