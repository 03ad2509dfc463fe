import { RawClient } from "./client.ts";

/**
 * mulberry32: a small seeded generator for random differential tests, so that a failure names the
 * seed that reproduces it. `pick(n)` is an integer in [0, n).
 */
export function generator(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

/**
 * Sends `stream` cut at `cuts`, pausing between the pieces so the server's reads end where they
 * do, then reads until `done` accepts the answer.
 */
export async function sendInPieces(
  port: number,
  stream: Uint8Array,
  cuts: number[],
  done: (received: string) => boolean,
): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    let at = 0;
    for (const cut of [...cuts, stream.length]) {
      await c.send(stream.subarray(at, cut));
      at = cut;
      await new Promise((r) => setTimeout(r, 1));
    }
    return await c.readUntil(done, 10000);
  } finally {
    c.close();
  }
}

/** Random cut points in a stream of `length` bytes: pieces of 1 to `largest` bytes. */
export function cutPoints(pick: (n: number) => number, length: number, largest: number): number[] {
  const cuts: number[] = [];
  for (let at = pick(largest / 2); at < length; at += 1 + pick(largest)) cuts.push(at);
  return cuts;
}
