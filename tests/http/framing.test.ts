/**
 * HTTP/1.1 framing on the wire: heads that cannot be framed safely are refused with the right
 * status and the connection closed; bodies by length and chunked, pipelined requests and HTTP/1.0
 * are answered in order.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { startOurs } from "../helpers/server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Sends `raw` on a new connection and reads until the server closes it. */
async function exchange(httpPort: number, raw: string): Promise<string> {
  const c = await RawClient.connect(httpPort);
  try {
    await c.send(raw);
    return await c.readUntil(() => false, 1500);
  } finally {
    c.close();
  }
}

const REFUSED: [string, string, number][] = [
  [
    "Content-Length and Transfer-Encoding",
    "POST /keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    400,
  ],
  [
    "two Content-Lengths that differ",
    "PUT /keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    400,
  ],
  [
    "a Content-Length that is not a number",
    "PUT /keys/a HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc",
    400,
  ],
  [
    "a transfer coding other than chunked",
    "PUT /keys/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    501,
  ],
  ["a folded header line", "GET /health HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", 400],
  ["a space before the colon", "GET /health HTTP/1.1\r\nHost : x\r\n\r\n", 400],
  ["a bare LF ending a header", "GET /health HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400],
  ["a NUL in a header value", "GET /health HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n", 400],
  ["a target that is not a path", "GET health HTTP/1.1\r\nHost: x\r\n\r\n", 400],
  ["HTTP/2.0 in an HTTP/1 request line", "GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 505],
  [
    "an expectation other than 100-continue",
    "PUT /keys/a HTTP/1.1\r\nHost: x\r\nExpect: tea\r\nContent-Length: 1\r\n\r\na",
    417,
  ],
  ["a method the Fetch API refuses", "TRACE /health HTTP/1.1\r\nHost: x\r\n\r\n", 405],
  ["two Host headers", "GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400],
  [
    "more than 100 header fields",
    `GET /health HTTP/1.1\r\nHost: x\r\n${"X-A: b\r\n".repeat(101)}\r\n`,
    431,
  ],
  [
    "a head over 16 KiB",
    `GET /health HTTP/1.1\r\nHost: x\r\nX-A: ${"b".repeat(17000)}\r\n\r\n`,
    431,
  ],
  [
    "a chunk size that is not hexadecimal",
    "PUT /keys/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
    400,
  ],
  [
    "a chunk without its CRLF",
    "PUT /keys/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n",
    400,
  ],
];

Deno.test(
  "heads and bodies that cannot be framed safely are refused, and the connection ends",
  opts,
  async (t) => {
    const server = await startOurs();
    try {
      for (const [what, raw, status] of REFUSED) {
        await t.step(what, async () => {
          // A request pipelined behind the bad one must not be answered: it may be smuggled.
          const answer = await exchange(
            server.httpPort,
            raw + "GET /keys/a HTTP/1.1\r\nHost: x\r\n\r\n",
          );
          assert.match(
            answer,
            new RegExp(`^HTTP/1\\.1 ${status} `),
            JSON.stringify(answer.slice(0, 80)),
          );
          assert.match(answer, /connection: close/);
          assert.equal(answer.match(/HTTP\/1\.1 \d{3} /g)?.length, 1, `one answer only: ${answer}`);
          assert.match(answer, /"error":"/);
        });
      }
      const health = await fetch(`http://127.0.0.1:${server.httpPort}/health`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
    } finally {
      await server.stop();
    }
  },
);

Deno.test(
  "chunked and sized bodies, pipelined requests, HEAD and HTTP/1.0 are answered in order",
  opts,
  async () => {
    const server = await startOurs();
    try {
      const answer = await exchange(
        server.httpPort,
        "PUT /keys/c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
          "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n" +
          "PUT /keys/d HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nwxyz" +
          "GET /keys/c HTTP/1.1\r\nHost: x\r\n\r\n" +
          "HEAD /keys/d HTTP/1.1\r\nHost: x\r\n\r\n" +
          "GET http://127.0.0.1/keys/c HTTP/1.1\r\nHost: elsewhere\r\n\r\n" +
          "GET /keys/d HTTP/1.0\r\n\r\n",
      );
      const parts = answer.split(/(?=HTTP\/1\.1 )/);
      assert.equal(parts.length, 6, answer);
      assert.match(parts[0], /^HTTP\/1\.1 204 /);
      assert.match(parts[1], /^HTTP\/1\.1 204 /);
      assert.match(parts[2], /^HTTP\/1\.1 200 [^]*content-length: 5\r\n\r\nabcde$/);
      assert.match(parts[3], /^HTTP\/1\.1 200 [^]*content-length: 4\r\n\r\n$/);
      // HTTP/1.0 without keep-alive: the answer ends the connection.
      // The absolute form, as a proxy sends it: the path is routed as usual.
      assert.match(parts[4], /^HTTP\/1\.1 200 [^]*\r\n\r\nabcde$/);
      assert.match(parts[5], /^HTTP\/1\.1 200 [^]*connection: close\r\n[^]*\r\n\r\nwxyz$/);
    } finally {
      await server.stop();
    }
  },
);

Deno.test(
  "Expect: 100-continue gets 100 before the body is sent, and none when refused first",
  opts,
  async () => {
    const server = await startOurs(["-I", "2k"]);
    try {
      const c = await RawClient.connect(server.httpPort);
      await c.send(
        "PUT /keys/e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
      );
      assert.equal(
        await c.readUntil((t) => t.endsWith("\r\n\r\n")),
        "HTTP/1.1 100 Continue\r\n\r\n",
      );
      await c.send("abc");
      assert.match(await c.readUntil((t) => t.endsWith("\r\n\r\n")), /^HTTP\/1\.1 204 /);
      c.close();
      // Too large by its Content-Length: 413 at once, without asking for the body.
      const big = await exchange(
        server.httpPort,
        "PUT /keys/e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n",
      );
      assert.match(big, /^HTTP\/1\.1 413 /);
    } finally {
      await server.stop();
    }
  },
);
