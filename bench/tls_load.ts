/**
 * A memcached load client over TLS, memaslap's mix without memaslap (which cannot speak TLS): each
 * connection sends one request at a time, nine `get` to one `set` of a 100-byte value over 10,000
 * keys, for --seconds; prints `TPS: N` as memaslap does. The clock starts once every connection
 * has shaken hands and the keys are loaded, so a round measures requests only. Run as its own
 * process by tls_rows.ts:
 *
 *   deno run --allow-net --allow-read bench/tls_load.ts --port=P --ca=FILE [--conns=32]
 */
import { parseArgs } from "node:util";
import { benchKey, VALUE_BYTES } from "./load.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    port: { type: "string" },
    ca: { type: "string" },
    conns: { type: "string", default: "32" },
    seconds: { type: "string", default: "3" },
    keys: { type: "string", default: "10000" },
  },
});
const port = Number(values.port);
const caCerts = [await Deno.readTextFile(values.ca!)];
const KEYS = Number(values.keys);
const enc = new TextEncoder();
const value = "v".repeat(VALUE_BYTES);

/** Whether `buf[0..end)` holds one whole answer: a get ends with END, a set with a line. */
function complete(buf: Uint8Array, end: number, get: boolean): boolean {
  if (end < 2 || buf[end - 2] !== 13 || buf[end - 1] !== 10) return false;
  if (!get) return true;
  return end >= 5 && buf[end - 5] === 69 && buf[end - 4] === 78 && buf[end - 3] === 68;
}

/** Every request, encoded once for all connections. */
const gets = Array.from({ length: KEYS }, (_, i) => enc.encode(`get ${benchKey(i)}\r\n`));
const sets = Array.from(
  { length: KEYS },
  (_, i) => enc.encode(`set ${benchKey(i)} 0 0 ${VALUE_BYTES}\r\n${value}\r\n`),
);

/** A connection that has shaken hands (before the clock starts). */
async function connect(): Promise<Deno.TlsConn> {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts });
  await conn.handshake();
  return conn;
}

async function client(conn: Deno.TlsConn, deadline: number, seed: number): Promise<number> {
  const buf = new Uint8Array(16384);
  let ops = 0;
  let x = seed;
  try {
    while (performance.now() < deadline) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      const key = x % KEYS;
      const get = ops % 10 !== 9;
      const req = get ? gets[key] : sets[key];
      let off = 0;
      while (off < req.length) off += await conn.write(req.subarray(off));
      let end = 0;
      while (!complete(buf, end, get)) {
        const n = await conn.read(buf.subarray(end));
        if (n === null) throw new Error("the server closed the connection");
        end += n;
        if (end === buf.length) end = 0; // values are small; keep only the tail
      }
      ops++;
    }
  } finally {
    conn.close();
  }
  return ops;
}

/**
 * Every key set once, so that gets hit from the start: 50 pipelined sets at a time, then a
 * `version` to wait on (memcached -Z 1.6.18 stalls on a pipeline of a few hundred KB over TLS).
 */
async function preload(): Promise<void> {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts });
  const buf = new Uint8Array(256);
  for (let i = 0; i < KEYS; i += 50) {
    let text = "";
    for (let j = i; j < Math.min(KEYS, i + 50); j++) {
      text += `set ${benchKey(j)} 0 0 ${VALUE_BYTES} noreply\r\n${value}\r\n`;
    }
    const bytes = enc.encode(text + "version\r\n");
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    let end = 0;
    while (!complete(buf, end, false)) {
      const n = await conn.read(buf.subarray(end));
      if (n === null) throw new Error("the server closed the connection");
      end += n;
    }
  }
  conn.close();
}

await preload();
const conns = await Promise.all(Array.from({ length: Number(values.conns) }, connect));
const seconds = Number(values.seconds);
const deadline = performance.now() + seconds * 1000;
const counts = await Promise.all(conns.map((conn, i) => client(conn, deadline, i + 1)));
const total = counts.reduce((a, b) => a + b, 0);
console.log(`TPS: ${Math.round(total / seconds)}`);
