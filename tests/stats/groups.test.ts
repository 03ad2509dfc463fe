/** Every door answers the same stats groups, from the one table in src/report.ts. */
import assert from "node:assert/strict";
import { packet, parsePackets } from "../helpers/binary.ts";
import { contextFor, feed, httpFor } from "../helpers/in_process.ts";
import { STATS_GROUPS } from "../../src/report.ts";
import { BinarySession } from "../../src/protocol/binary/session.ts";
import { TextSession } from "../../src/protocol/text/session.ts";

const ascii = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("text: every group answers; views end in END, reset answers RESET", () => {
  const ctx = contextFor();
  for (const group of STATS_GROUPS) {
    const line = group.name === "" ? "stats\r\n" : `stats ${group.name}\r\n`;
    const answer = decode(feed(new TextSession(ctx, null), ascii(line)).answer);
    if (group.action !== undefined) assert.equal(answer, `${group.action}\r\n`, line);
    else assert.match(answer, /^(STAT [^\r\n]+\r\n)*END\r\n$/, line);
  }
  assert.equal(
    decode(feed(new TextSession(ctx, null), ascii("stats sizesx\r\n")).answer),
    "ERROR\r\n",
  );
});

Deno.test("binary: groups match by prefix where memcached's do; text-only groups are not found", () => {
  const ctx = contextFor();
  const ask = (key: string) => {
    const { packets } = parsePackets(
      feed(new BinarySession(ctx, null), packet({ opcode: 0x10, key })).answer,
    );
    return packets;
  };
  for (const group of STATS_GROUPS) {
    const packets = ask(group.name);
    if (group.textOnly) {
      assert.equal(packets.length, 1);
      assert.equal(packets[0].status, 1, `${group.name}: not found`);
      continue;
    }
    assert.equal(packets.at(-1)!.status, 0, group.name);
    assert.equal(packets.at(-1)!.key.length, 0, `${group.name}: ends with an empty packet`);
    const prefixed = ask(group.name + "x");
    assert.equal(prefixed.at(-1)!.status, group.binaryPrefix ? 0 : 1, `${group.name}x`);
  }
  const sizes = ask("sizes");
  assert.deepEqual([sizes[0].key, sizes[0].value], ["sizes_status", "disabled"]);
});

Deno.test("HTTP: GET /stats/<group> for every view, with the rows the text door prints", async () => {
  const ctx = contextFor();
  const fetch = httpFor(ctx);
  for (const group of STATS_GROUPS) {
    if (group.action !== undefined) continue;
    const path = group.name === "" ? "/stats" : `/stats/${group.name}`;
    const res = await fetch(new Request(`http://127.0.0.1${path}`));
    assert.equal(res.status, 200, path);
    const body = await res.json();
    if (group.name !== "") assert.deepEqual(Object.keys(body), group.rows(ctx).map((r) => r[0]));
  }
  const sizes = await (await fetch(new Request("http://127.0.0.1/stats/sizes"))).json();
  assert.deepEqual(sizes, { sizes_status: "disabled" });
});
