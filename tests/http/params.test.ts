/** The HTTP door's parameter and header parsing, in process. */
import assert from "node:assert/strict";
import {
  BadParameter,
  base64url,
  etag,
  fromBase64url,
  parseFlags,
  parseIfMatch,
  parseU64Text,
  percentDecode,
  percentEncode,
} from "../../routes/params.ts";

Deno.test("percent-decoding is bytewise: %XX is one byte, + is a plus, UTF-8 passes through", () => {
  assert.deepEqual([...percentDecode("a%2Fb+c")], [...new TextEncoder().encode("a/b+c")]);
  assert.deepEqual([...percentDecode("%ff%00")], [255, 0]);
  assert.deepEqual([...percentDecode("café")], [...new TextEncoder().encode("café")]);
  const odd = new Uint8Array([0, 32, 37, 47, 200, 97]);
  assert.deepEqual([...percentDecode(percentEncode(odd))], [...odd]);
});

Deno.test("If-Match takes *, a quoted, weak or bare tag; lists and junk are refused", () => {
  assert.equal(parseIfMatch("*"), "*");
  assert.equal(parseIfMatch('"42"'), 42n);
  assert.equal(parseIfMatch('W/"42"'), 42n);
  assert.equal(parseIfMatch("42"), 42n);
  assert.equal(parseIfMatch(etag(18446744073709551615n)), 18446744073709551615n);
  assert.throws(() => parseIfMatch('"1", "2"'), BadParameter);
  assert.throws(() => parseIfMatch('"18446744073709551616"'), BadParameter);
});

Deno.test("flags are uint32 and u64 parameters stop at 2^64 - 1", () => {
  assert.equal(parseFlags("4294967295"), 4294967295);
  assert.throws(() => parseFlags("4294967296"), BadParameter);
  assert.throws(() => parseFlags("-1"), BadParameter);
  assert.equal(parseU64Text("by", "18446744073709551615"), 18446744073709551615n);
  assert.throws(() => parseU64Text("by", "18446744073709551616"), BadParameter);
  assert.throws(() => parseU64Text("by", "1e3"), BadParameter);
});

Deno.test("base64url round-trips any bytes and refuses what is not base64url", () => {
  const bytes = new Uint8Array([251, 255, 0, 1, 2]);
  assert.deepEqual([...fromBase64url(base64url(bytes))!], [...bytes]);
  assert.equal(fromBase64url("a+b/"), null);
});
