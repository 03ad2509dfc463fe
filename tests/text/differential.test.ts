/**
 * Sends the same byte sequences to the real memcached and to this server and compares the answers
 * byte for byte. Only CAS uniques are normalised (the counters start at different points).
 */
import { RawClient } from "../helpers/client.ts";
import { eachCaseOnBoth } from "../helpers/differential.ts";
import { NO_MEMCACHED } from "../helpers/server.ts";

const SENTINEL = "version\r\n";
const long = (n: number) => "k".repeat(n);

/** Each case runs on its own connection; keys are prefixed per case so cases do not interfere. */
const cases: Record<string, string> = {
  "set and get": "set a 0 0 1\r\nx\r\nget a\r\nget a a nokey\r\n",
  "set with flags and exptime": "set a 4294967295 100 3\r\nabc\r\nget a\r\n",
  "flags wrap like strtoul": "set a 4294967296 0 1\r\nx\r\nget a\r\n",
  "flags too big": "set a 18446744073709551616 0 1\r\nx\r\n",
  "negative flags": "set a -1 0 1\r\nx\r\nget a\r\n",
  "bad flags": "set a 0x1 0 1\r\nx\r\nset a abc 0 1\r\nx\r\n",
  "bad exptime": "set a 0 abc 1\r\nx\r\n",
  "bad length": "set a 0 0 abc\r\nx\r\nset a 0 0 -1\r\nx\r\n",
  "leading zero length": "set a 0 0 01\r\nx\r\nget a\r\n",
  "too few tokens": "set a 0 0\r\nget\r\ncas a 0 0 1\r\nincr a\r\ntouch a\r\n",
  "too many tokens": "set a 0 0 1 noreply extra\r\nx\r\n",
  "extra token in noreply slot": "set a 0 0 3 extra\r\nabc\r\nget a\r\n",
  "noreply": "set a 0 0 1 noreply\r\nx\r\nadd a 0 0 1 noreply\r\ny\r\nget a\r\n",
  "bad data chunk": "set a 0 0 3\r\nabcde\r\nget a\r\n",
  "bad data chunk noreply": "set a 0 0 1 noreply\r\nxy\r\nget a\r\n",
  "bare newlines": "set a 0 0 1\nx\r\nget a\n",
  "double spaces": "set  a  0  0  1 \r\nx\r\nget  a \r\n",
  "empty line": "\r\n\r\n",
  "unknown commands": "foo\r\nGET a\r\nx\r\nsets a\r\ngetx a\r\nm\r\n",
  "key too long set": `set ${long(251)} 0 0 1\r\nx\r\n`,
  "key of 250 bytes": `set ${long(250)} 0 0 1\r\nx\r\nget ${long(250)}\r\n`,
  "key too long get": `set a 0 0 1\r\nx\r\nget a ${long(251)}\r\n`,
  "key too long others": `incr ${long(251)} 1\r\ndelete ${long(251)}\r\ntouch ${
    long(251)
  } 1\r\ngat 1 ${long(251)}\r\n`,
  "add": "add a 0 0 1\r\nx\r\nadd a 0 0 1\r\ny\r\nget a\r\n",
  "replace": "replace a 0 0 1\r\nx\r\nset a 0 0 1\r\nx\r\nreplace a 5 0 1\r\ny\r\nget a\r\n",
  "append prepend": "append a 0 0 1\r\nx\r\nprepend a 0 0 1\r\nx\r\nset a 7 0 1\r\n1\r\n" +
    "append a 9 0 2\r\n23\r\nprepend a 9 0 1\r\n0\r\nget a\r\n",
  "cas":
    "cas a 0 0 1 1\r\nx\r\nset a 0 0 1\r\nx\r\ncas a 0 0 1 0\r\ny\r\ncas a 0 0 1 abc\r\ny\r\nget a\r\n",
  "gets and cas roundtrip": "set a 0 0 1\r\nx\r\ngets a\r\n",
  "delete": "delete a\r\nset a 0 0 1\r\nx\r\ndelete a\r\ndelete a\r\n",
  "delete with time":
    "set a 0 0 1\r\nx\r\ndelete a 0\r\ndelete a 5\r\ndelete a 0 noreply\r\ndelete a x y z\r\n",
  "delete noreply": "set a 0 0 1\r\nx\r\ndelete a noreply\r\nget a\r\n",
  "incr decr": "set n 5 0 2\r\n10\r\ndecr n 1\r\nget n\r\nincr n 5\r\nget n\r\nincr n 100\r\n" +
    "get n\r\ndecr n 1000\r\nget n\r\n",
  "incr wraps": "set n 0 0 20\r\n18446744073709551615\r\nincr n 1\r\nget n\r\n",
  // An mg answer still holds the item, so the decr writes a new one instead of padding in place.
  "decr after mg in the same batch": "set n 0 0 3\r\n100\r\nmn\r\nmg n v\r\ndecr n 95\r\nget n\r\n",
  "incr limits":
    "set n 0 0 1\r\n5\r\nincr n 18446744073709551615\r\nincr n 18446744073709551616\r\n" +
    "incr n -1\r\nincr n abc\r\nincr n 1 noreply\r\nget n\r\n",
  "incr non numeric":
    "set n 0 0 3\r\nabc\r\nincr n 1\r\ndecr n 1\r\nset m 0 0 0\r\n\r\nincr m 1\r\n",
  "incr missing": "incr nokey 1\r\ndecr nokey 1\r\n",
  "touch": "touch a 10\r\nset a 0 0 1\r\nx\r\ntouch a 10\r\ntouch a abc\r\ntouch a 10 noreply\r\n",
  "gat gats": "set a 3 0 1\r\nx\r\ngat 100 a nokey\r\ngats 100 a\r\ngat abc a\r\ngat a\r\n",
  "exptime wraps to 32 bits like 1.6.18":
    "set a 0 0 1\r\nx\r\ngat 4294967296 a\r\ngat 2147483648 a\r\nset b 0 4294967296 1\r\nx\r\n" +
    "get a b\r\ntouch b 2147483648\r\nget b\r\nflush_all 4294967296\r\n",
  "negative exptime": "set a 0 -1 1\r\nx\r\nget a\r\n",
  "absolute exptime in the past": "set a 0 2592001 1\r\nx\r\nget a\r\nset b 0 2592000 1\r\nx\r\n" +
    "get b\r\n",
  "verbosity":
    "verbosity\r\nverbosity 1\r\nverbosity 1 noreply\r\nverbosity abc\r\nverbosity 0\r\n",
  "flush_all forms":
    "flush_all abc\r\nflush_all 0 noreply\r\nflush_all 1 2 3\r\nflush_all noreply extra\r\n",
  "cache_memlimit":
    "cache_memlimit\r\ncache_memlimit abc\r\ncache_memlimit 2\r\ncache_memlimit 2000000000\r\n",
  "shutdown disabled": "shutdown\r\n",
  "stats errors": "stats foo\r\nstats detail\r\nstats detail on\r\nstats detail off\r\n",
  "stats reset": "stats reset\r\n",
  "stats sizes": "stats sizes\r\nstats sizesx\r\nstats settingsx\r\n",
  "many keys": "set a 0 0 1\r\nx\r\nget " +
    Array.from({ length: 40 }, (_, i) => `k${i}`).join(" ") +
    " a\r\n",
  "pipelined": "set a 0 0 1\r\n1\r\nset b 0 0 1\r\n2\r\nget a b\r\nincr a 1\r\nget a\r\n",
  "binary value": "set a 0 0 4\r\n\r\n\x00\xff\r\nget a\r\n",
  "http request": "GET / HTTP/1.1\r\n",
  "quit": "set a 0 0 1\r\nx\r\nquit\r\nget a\r\n",
  "long line with newline": "x".repeat(3000) + "\r\n",
  "long get line": "get " + "k ".repeat(1500) + "\r\n",
  "value too large": `set a 0 0 1\r\nx\r\nset a 0 0 2000000\r\n${"v".repeat(2000000)}\r\nget a\r\n`,
  "item size boundary":
    `set a 0 0 1048510\r\n${"v".repeat(1048510)}\r\nset b 0 0 1048520\r\n${
      "v".repeat(1048520)
    }\r\n` +
    "get nothing\r\n",
  // Non-zero flags take 4 bytes of the item, so the largest value is 4 bytes smaller.
  "item size boundary with flags":
    `set a 7 0 1048514\r\n${"v".repeat(1048514)}\r\nset b 7 0 1048512\r\n${
      "v".repeat(1048512)
    }\r\n` +
    "get nothing\r\n",
};

/** Rewrites CAS uniques ("VALUE k f n <cas>") so the two servers can be compared. */
function normalise(text: string): string {
  return text.replace(/^(VALUE \S+ \d+ \d+) \d+\r$/gm, "$1 <cas>\r");
}

async function exchange(port: number, name: string, request: string): Promise<string> {
  const client = await RawClient.connect(port);
  try {
    // Keys get a per-case prefix by running each case on a fresh flushable namespace:
    await client.call("flush_all\r\n");
    await client.send(request + SENTINEL);
    const answer = await client.readUntil((t) => t.endsWith("VERSION 1.6.18\r\n"), 3000);
    return normalise(answer);
  } catch (err) {
    throw new Error(`${name}: ${err}`);
  } finally {
    client.close();
  }
}

Deno.test(
  "text protocol answers byte for byte like memcached",
  { ignore: NO_MEMCACHED },
  (t) => eachCaseOnBoth(t, cases, exchange),
);
