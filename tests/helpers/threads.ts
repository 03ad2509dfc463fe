/** Which thread of a `-t N` server serves a client. */
import assert from "node:assert/strict";
import { RawClient } from "./client.ts";

/**
 * Connects `count` clients and checks, through `stats conns`, that every thread serves some of
 * them: the connection ids of thread i are i + 1 modulo the thread count.
 */
export async function clientsOnEveryThread(
  port: number,
  count: number,
  threads: number,
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

/** The thread serving `client`, from its own line of `stats conns`. */
export async function threadOf(client: RawClient, threads: number): Promise<number> {
  const local = (client.conn.localAddr as Deno.NetAddr).port;
  const conns = await client.call("stats conns\r\n", "END\r\n");
  const line = conns.split("\r\n").find((l) => l.endsWith(`:addr tcp:127.0.0.1:${local}`));
  assert.ok(line !== undefined, `this client's own connection in stats conns:\n${conns}`);
  const id = Number(/^STAT (\d+):/.exec(line)![1]);
  return (id - 1) % threads;
}
