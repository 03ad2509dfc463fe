/** The binary session's header checks, in process: what closes, what is refused, what waits. */
import assert from "node:assert/strict";
import { concat, packet, parsePackets } from "../helpers/binary.ts";
import { contextFor, feed } from "../helpers/in_process.ts";
import { BinarySession } from "../../src/protocol/binary/session.ts";

const NOOP = 0x0a;
const GET = 0x00;

Deno.test("a header still arriving waits: nothing consumed, the bytes needed are known", () => {
  const session = new BinarySession(contextFor(), null);
  const whole = packet({ opcode: GET, key: "abc" });
  const { answer, used } = feed(session, whole.subarray(0, 20));
  assert.equal(used, 0);
  assert.equal(answer.length, 0);
  assert.equal(session.need, 24);
  const head = feed(session, whole.subarray(0, 25));
  assert.equal(head.used, 0);
  assert.equal(session.need, 27, "header, extras and key");
});

Deno.test("a bad magic byte closes without an answer", () => {
  const session = new BinarySession(contextFor(), null);
  const { answer } = feed(session, packet({ opcode: NOOP, magic: 0x81 }));
  assert.equal(answer.length, 0);
  assert.equal(session.closing, true);
});

Deno.test("key and extras longer than the body: unknown command, then close", () => {
  const session = new BinarySession(contextFor(), null);
  const { answer } = feed(session, packet({ opcode: GET, key: "abc", bodyLength: 2 }));
  const { packets } = parsePackets(answer);
  assert.equal(packets.length, 1);
  assert.equal(packets[0].status, 0x81);
  assert.equal(session.closing, true);
});

Deno.test("a key over 250 bytes is refused as invalid and closes", () => {
  const session = new BinarySession(contextFor(), null);
  const { answer } = feed(session, packet({ opcode: GET, key: "k".repeat(251) }));
  assert.equal(parsePackets(answer).packets[0].status, 0x04);
  assert.equal(session.closing, true);
});

Deno.test("pipelined requests in one read are all answered, in order", () => {
  const session = new BinarySession(contextFor(), null);
  const { answer } = feed(
    session,
    concat(packet({ opcode: NOOP, opaque: 1 }), packet({ opcode: NOOP, opaque: 2 })),
  );
  assert.deepEqual(parsePackets(answer).packets.map((p) => p.opaque), [1, 2]);
});
