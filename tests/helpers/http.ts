/** Small HTTP helpers shared by the HTTP door's tests. */
import { RawClient } from "./client.ts";
import { startOurs } from "./server.ts";

/** startOurs waits for the memcached port only; the HTTP listener opens a moment later. */
export async function httpReady(base: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    try {
      const res = await fetch(`${base}/health`);
      await res.body?.cancel();
      return base;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`no HTTP listener at ${base}`);
}

/** One request, its body read whole as bytes and as text. */
export async function call(method: string, url: string, init: RequestInit = {}) {
  const res = await fetch(url, { method, ...init });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, bytes, text: new TextDecoder().decode(bytes) };
}

/** Runs `body` against a fresh server: its HTTP base URL and a memcached connection to it. */
export async function withHttpServer(
  args: string[],
  body: (base: string, mc: RawClient) => Promise<void>,
): Promise<void> {
  const server = await startOurs(args);
  const mc = await RawClient.connect(server.port);
  try {
    await body(await httpReady(`http://127.0.0.1:${server.httpPort}`), mc);
  } finally {
    mc.close();
    await server.stop();
  }
}
