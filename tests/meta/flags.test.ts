/** Meta flag parsing, in process: memcached 1.6.18's rules for each flag token. */
import assert from "node:assert/strict";
import { contextFor } from "../helpers/in_process.ts";
import { CommandLine } from "../../src/protocol/text/line.ts";
import { parseMetaFlags } from "../../src/protocol/text/meta/flags.ts";

function flags(text: string, first = 2) {
  const line = new CommandLine(contextFor(), null);
  line.buf = new TextEncoder().encode(text);
  line.tokenize(0, line.buf.length);
  return parseMetaFlags(line, first);
}

Deno.test("numeric flags take their argument after the letter", () => {
  const f = flags("mg key v T30 N60 R5 q");
  assert.equal(f.error, null);
  assert.equal(f.value, true);
  assert.equal(f.quiet, true);
  assert.equal(f.newTtl, true);
  assert.equal(f.ttl, 30);
  assert.equal(f.vivify, true);
  assert.equal(f.vivifyTtl, 60);
  assert.equal(f.recacheTtl, 5);
  assert.equal(f.locked, true);
});

Deno.test("ms flags: client flags, CAS, invalidate and mode", () => {
  const f = flags("ms key 5 F42 C18446744073709551615 I MA", 3);
  assert.equal(f.error, null);
  assert.equal(f.clientFlags, 42);
  assert.equal(f.hasCas, true);
  assert.equal(f.compareCas, 18446744073709551615n);
  assert.equal(f.invalidate, true);
  assert.equal(f.mode, "A".charCodeAt(0));
});

Deno.test("a duplicate or unknown flag stops at once; a bad number is remembered", () => {
  assert.equal(flags("mg key v v").error, "CLIENT_ERROR duplicate flag");
  assert.equal(flags("mg key X").error, "CLIENT_ERROR invalid flag");
  assert.equal(flags("mg key Tabc").error, "CLIENT_ERROR bad token in command line format");
});

Deno.test("b decodes a base64 key, and a bad one is an error", () => {
  const f = flags("mg Zm9v b v");
  assert.equal(f.error, null);
  assert.equal(new TextDecoder().decode(f.key), "foo");
  assert.equal(f.keyBinary, true);
  assert.equal(flags("mg !!!! b").error, "CLIENT_ERROR error decoding key");
});
