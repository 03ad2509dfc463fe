/** The text protocol's line tokenizer, in process. */
import assert from "node:assert/strict";
import { contextFor } from "../helpers/in_process.ts";
import { CommandLine, MAX_TOKENS } from "../../src/protocol/text/line.ts";

function tokenized(text: string): CommandLine {
  const line = new CommandLine(contextFor(), null);
  line.buf = new TextEncoder().encode(text);
  line.tokenize(0, line.buf.length);
  return line;
}

const words = (line: CommandLine) =>
  Array.from({ length: line.ntok }, (_, i) => new TextDecoder().decode(line.tokenBytes(i)));

Deno.test("words split on spaces only, runs of spaces count once", () => {
  const line = tokenized("  set  a\t0 0  1 ");
  assert.deepEqual(words(line), ["set", "a\t0", "0", "1"]);
  assert.equal(line.truncated, false);
  assert.ok(line.tokenIs(0, "set"));
  assert.ok(!line.tokenIs(0, "se"));
  assert.ok(!line.tokenIs(0, "sets"));
  assert.equal(line.tokenLength(1), 3);
});

Deno.test("more than memcached's 24 tokens: 23 words are kept and the line is marked", () => {
  const many = Array.from({ length: 30 }, (_, i) => `w${i}`).join(" ");
  const line = tokenized(many);
  assert.equal(line.ntok, MAX_TOKENS - 1);
  assert.equal(line.truncated, true);
  assert.equal(words(line).at(-1), "w22");
  const exact = tokenized(Array.from({ length: MAX_TOKENS - 1 }, () => "w").join(" "));
  assert.equal(exact.truncated, false);
});

Deno.test("noreply is the last word only, spelled exactly", () => {
  assert.ok(tokenized("set a 0 0 1 noreply").noreply());
  assert.ok(!tokenized("set a 0 0 1 noreplyx").noreply());
  assert.ok(!tokenized("noreply set").noreply());
  assert.ok(!tokenized("").noreply());
});

Deno.test("startsWith compares bytes at an offset within the end", () => {
  const line = tokenized("get HTTP/1.1");
  assert.ok(line.startsWith(4, line.buf.length, "HTTP/"));
  assert.ok(!line.startsWith(4, 7, "HTTP/"));
});
