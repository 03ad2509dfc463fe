/** Which thread of a `-t N` server serves a client; the real server at -t 2 with clients on each. */
import assert from "node:assert/strict";
import { RawClient } from "./client.ts";
import { type Child, startOurs } from "./server.ts";

export const THREADS = 2;

/** Starts the server with `-t THREADS` and `args`, runs `run`, and checks that it stops with 0. */
export async function withThreads(
  args: string[],
  run: (child: Child) => Promise<void>,
): Promise<void> {
  const child = await startOurs(["-t", String(THREADS), ...args]);
  // The signal handlers are installed once every thread is up: the start-up line says so.
  await child.waitForOutput(/listening/);
  try {
    await run(child);
  } catch (err) {
    await child.stop();
    throw err;
  }
  const status = await child.stop();
  assert.equal(status.code, 0, child.output());
}

/**
 * Connects `count` clients and checks, through `stats conns`, that every thread serves some of
 * them: the connection ids of thread i are i + 1 modulo the thread count.
 */
export async function clientsOnEveryThread(
  port: number,
  count: number,
  threads = THREADS,
): Promise<RawClient[]> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const clients = await Promise.all(
      Array.from({ length: count }, () => RawClient.connect(port)),
    );
    const seen = new Set<number>();
    for (const c of clients) seen.add(await threadOf(c, threads));
    if (seen.size === threads) return clients;
    for (const c of clients) c.close();
  }
  throw new Error("the kernel gave every connection to one thread, five times in a row");
}

/** The clients of `clients` that thread `thread` serves, in order. */
export async function onThread(clients: RawClient[], thread: number): Promise<RawClient[]> {
  const mine: RawClient[] = [];
  for (const c of clients) if (await threadOf(c) === thread) mine.push(c);
  return mine;
}

/** The id `stats conns` gives this client's own connection. */
export async function connectionId(client: RawClient): Promise<number> {
  const local = (client.conn.localAddr as Deno.NetAddr).port;
  const conns = await client.call("stats conns\r\n", "END\r\n");
  const line = conns.split("\r\n").find((l) => l.endsWith(`:addr tcp:127.0.0.1:${local}`));
  assert.ok(line !== undefined, `this client's own connection in stats conns:\n${conns}`);
  return Number(/^STAT (\d+):/.exec(line)![1]);
}

/** The thread serving `client`, from its own line of `stats conns`. */
export async function threadOf(client: RawClient, threads = THREADS): Promise<number> {
  return (await connectionId(client) - 1) % threads;
}

export function closeAll(clients: RawClient[]): void {
  for (const c of clients) c.close();
}

/** `stats` (or `stats <group>`) as a map of name to value. */
export async function statsOf(client: RawClient, group = ""): Promise<Map<string, string>> {
  const text = await client.call(`stats${group === "" ? "" : ` ${group}`}\r\n`, "END\r\n");
  const stats = new Map<string, string>();
  for (const m of text.matchAll(/^STAT (\S+) (.*)\r$/gm)) stats.set(m[1], m[2]);
  return stats;
}

/**
 * One HTTP/1.1 request on a connection of its own (fetch would reuse one, so every request would
 * meet the same thread): the status and the body.
 */
export async function httpOnce(
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const c = await RawClient.connect(port);
  try {
    const answer = await c.call(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      "\u0000never",
    );
    const head = answer.slice(0, answer.indexOf("\r\n\r\n"));
    let body = answer.slice(head.length + 4);
    if (/transfer-encoding: chunked/i.test(head)) body = unchunk(body);
    return { status: Number(head.split(" ")[1]), body };
  } finally {
    c.close();
  }
}

function unchunk(text: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const eol = text.indexOf("\r\n", at);
    const size = parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
