/**
 * `slabs automove` and `slabs reassign` answer as memcached 1.6.18 does, line for line. This
 * store has no pages to move, so a valid reassign is told NOSPARE, as memcached tells it when the
 * source class has no spare page.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { NO_MEMCACHED, startMemcached, startOurs } from "../helpers/server.ts";

const COMMANDS = [
  "slabs automove 1",
  "slabs automove 2",
  "slabs automove 0",
  "slabs automove 3",
  "slabs automove x",
  "slabs automove -1",
  "slabs automove",
  "slabs automove ratio 0.5",
  "slabs automove ratio x",
  "slabs automove ratio",
  "slabs automove 1 2",
  "slabs reassign 1 2",
  "slabs reassign 1 1",
  "slabs reassign 0 0",
  "slabs reassign 2 0",
  "slabs reassign 1 39",
  "slabs reassign 1 40",
  "slabs reassign 99 1",
  "slabs reassign -1 2",
  "slabs reassign -1 -1",
  "slabs reassign 1x 2",
  "slabs reassign a b",
  "slabs reassign 99999999999999999999 1",
  "slabs reassign 1 2 3",
  "slabs foo",
  "slabs",
];

async function answers(port: number): Promise<string[]> {
  const c = await RawClient.connect(port);
  try {
    const out: string[] = [];
    for (const command of COMMANDS) out.push(await c.call(`${command}\r\n`));
    // noreply: nothing comes back before the noop's answer.
    out.push(await c.call("slabs automove 1 noreply\r\nmn\r\n"));
    return out;
  } finally {
    c.close();
  }
}

Deno.test({
  name: "slabs automove and slabs reassign answer as memcached's do",
  ignore: NO_MEMCACHED,
  async fn() {
    const real = await startMemcached();
    const ours = await startOurs();
    try {
      const expected = await answers(real.port);
      const actual = await answers(ours.port);
      for (let i = 0; i < expected.length; i++) {
        assert.equal(actual[i], expected[i], COMMANDS[i] ?? "noreply");
      }
    } finally {
      await real.stop();
      await ours.stop();
    }
  },
});
