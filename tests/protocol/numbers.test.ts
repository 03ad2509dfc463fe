import assert from "node:assert/strict";
import { parseI32, parseU32, parseU64 } from "../../src/protocol/numbers.ts";
import { latin1 } from "../helpers/client.ts";

const u32 = (s: string) => parseU32(latin1(s), 0, s.length);
const i32 = (s: string) => parseI32(latin1(s), 0, s.length);
const u64 = (s: string) => parseU64(latin1(s), 0, s.length);

Deno.test("parseU32 follows safe_strtoul: truncates to 32 bits, refuses negatives and junk", () => {
  assert.equal(u32("0"), 0);
  assert.equal(u32("4294967295"), 4294967295);
  assert.equal(u32("4294967296"), 0);
  assert.equal(u32("18446744073709551615"), 4294967295);
  assert.equal(u32("18446744073709551616"), null);
  assert.equal(u32("-1"), null);
  assert.equal(u32("-0"), 0);
  assert.equal(u32("+5"), 5);
  assert.equal(u32("12abc"), null);
  assert.equal(u32(""), null);
  assert.equal(u32("0x10"), null);
});

Deno.test("parseI32 follows memcached 1.6.18: any 64-bit value, truncated to 32 bits", () => {
  assert.equal(i32("-1"), -1);
  assert.equal(i32("2147483647"), 2147483647);
  assert.equal(i32("2147483648"), -2147483648);
  assert.equal(i32("4294967296"), 0);
  assert.equal(i32("9223372036854775808"), null);
  assert.equal(i32("-2147483648"), -2147483648);
  assert.equal(i32("abc"), null);
  assert.equal(i32("1.5"), null);
});

Deno.test("parseU64 is exact to 64 bits", () => {
  assert.equal(u64("18446744073709551615"), 18446744073709551615n);
  assert.equal(u64("18446744073709551616"), null);
  assert.equal(u64("9007199254740993"), 9007199254740993n);
  assert.equal(u64("-1"), null);
  assert.equal(u64("1 "), 1n);
});
