/**
 * The limit of the HTTP door on this runtime: Deno.serve answering 100 bytes from a constant.
 * `plain` sends only a content type (the baseline the targets use); `contract-headers` also sends
 * the ETag and X-Memcached-Flags a read of the API carries, from a counter and a constant.
 */
const port = Number(Deno.args[0]);
const mode = Deno.args[1] ?? "plain";
const body = new Uint8Array(100).fill(120);
const contentType = "application/octet-stream";
let cas = 1_000_000;

Deno.serve(
  { hostname: "127.0.0.1", port, onListen: () => {} },
  mode === "plain"
    ? () => new Response(body, { headers: { "content-type": contentType } })
    : () =>
      new Response(body, {
        headers: { "content-type": contentType, etag: `"${++cas}"`, "x-memcached-flags": "0" },
      }),
);
