/** The limit of the HTTP door on this runtime: Deno.serve answering 100 bytes from a constant. */
const port = Number(Deno.args[0]);
const body = new Uint8Array(100).fill(120);
Deno.serve(
  { hostname: "127.0.0.1", port, onListen: () => {} },
  () => new Response(body, { headers: { "content-type": "application/octet-stream" } }),
);
