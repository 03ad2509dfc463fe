/**
 * A seeded fuzz of text, binary and HTTP frames: near-valid requests with random words, lengths,
 * NULs, control bytes, huge declared sizes and cut-off bodies, over connections that are read by a
 * drain and reopened when the server hangs up. Ends with the process alive, every door answering,
 * the store still working and memory bounded. FUZZ_FRAMES=200000 for a long run; FUZZ_SEED
 * to replay one.
 */
import assert from "node:assert/strict";
import { generator } from "../helpers/random.ts";
import { packet } from "../helpers/binary.ts";
import { assertHealthy, RssWatch, sleep, stat, storeSentinels } from "../helpers/hostile.ts";
import { startOurs } from "../helpers/server.ts";
import { RawClient } from "../helpers/client.ts";

const FRAMES = Number(Deno.env.get("FUZZ_FRAMES") ?? "30000");
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? "12345");
const CONNECTIONS = 6;

type Pick = (n: number) => number;

const WORDS = [
  "get",
  "gets",
  "gat",
  "gats",
  "set",
  "add",
  "replace",
  "append",
  "prepend",
  "cas",
  "incr",
  "decr",
  "delete",
  "touch",
  "mg",
  "ms",
  "md",
  "ma",
  "mn",
  "me",
  "stats",
  "version",
  "verbosity",
  "flush_all",
  "noreply",
  "big",
  "k",
  "0",
  "-1",
  "1",
  "2147483647",
  "4294967296",
  "18446744073709551616",
  "v",
  "T0",
  "q",
  "O1",
  "N5",
  "MA",
  "b",
  "Zm9v",
  "stats slabs",
];

function junk(pick: Pick, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(pick(4) === 0 ? pick(32) : 32 + pick(95));
  return s;
}

function textFrame(pick: Pick): string {
  const words: string[] = [];
  const count = 1 + pick(6);
  for (let i = 0; i < count; i++) {
    words.push(pick(5) === 0 ? junk(pick, 1 + pick(12)) : WORDS[pick(WORDS.length)]);
  }
  let line = words.join(pick(8) === 0 ? "  " : " ");
  if (pick(10) === 0) line += "\0" + junk(pick, 4);
  if (pick(50) === 0) line = "get " + "k ".repeat(2000 + pick(3000));
  const data = pick(3) === 0 ? junk(pick, pick(64)) + "\r\n" : "";
  return line + (pick(10) === 0 ? "\n" : "\r\n") + data;
}

function binaryFrame(pick: Pick): Uint8Array {
  const key = junk(pick, pick(12));
  const value = junk(pick, pick(40));
  const extras = new Uint8Array([0, 4, 8, 20][pick(4)]);
  const odd = pick(6) === 0;
  return packet({
    opcode: pick(5) === 0
      ? pick(256)
      : [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 13, 0x1c, 0x21][pick(14)],
    key,
    extras,
    value,
    magic: pick(40) === 0 ? pick(256) : 0x80,
    bodyLength: odd ? [0, 1, 0xffffffff, 2_000_000, pick(100)][pick(5)] : undefined,
    keyLength: pick(30) === 0 ? pick(0x10000) : undefined,
  });
}

function httpFrame(pick: Pick): string {
  const method = ["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH"][pick(6)];
  const seg = pick(3) === 0 ? encodeURIComponent(junk(pick, 1 + pick(10))) : "k" + pick(20);
  const path = [
    `/keys/${seg}`,
    `/keys/${seg}/incr`,
    `/keys?key=${seg}&key=big`,
    `/keys?prefix=${seg}&limit=${pick(2000)}`,
    `/%6Beys/${seg}`,
    "/stats",
    "/health",
    "/" + junk(pick, 5).replace(/[\s]/g, ""),
  ][pick(8)];
  const body = pick(2) === 0 ? junk(pick, pick(100)) : "";
  const host = pick(10) === 0 ? "x/keys/k1?" : "x";
  const length = pick(8) === 0 ? body.length + pick(50) : body.length;
  const target = pick(20) === 0 ? `http://${host}${path}` : path;
  const version = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.x"][pick(6)];
  let headers = `Host: ${host}\r\n`;
  // Framing the server must refuse or follow exactly: chunked bodies (whole, cut or malformed),
  // both lengths at once, two lengths, 100-continue, close, folded and bare-LF lines.
  const chunked = pick(4) === 0;
  let payload = body;
  if (chunked) {
    headers += pick(10) === 0
      ? "Transfer-Encoding: gzip, chunked\r\n"
      : "Transfer-Encoding: chunked\r\n";
    if (pick(6) === 0) headers += `Content-Length: ${length}\r\n`;
    const size = [body.length.toString(16), "zz", "-1", "ffffffffffffffff", "0"][pick(5)];
    payload = `${size}${pick(5) === 0 ? ";x=y" : ""}\r\n${body}\r\n0\r\n${
      pick(5) === 0 ? "T: t\r\n" : ""
    }\r\n`;
    if (pick(5) === 0) payload = payload.slice(0, pick(payload.length + 1));
  } else {
    headers += `Content-Length: ${length}\r\n`;
    if (pick(15) === 0) headers += `Content-Length: ${length + 1}\r\n`;
  }
  if (pick(10) === 0) headers += "Expect: 100-continue\r\n";
  if (pick(10) === 0) headers += "Connection: close\r\n";
  if (pick(20) === 0) headers += "X-Folded: a\r\n b\r\n";
  if (pick(20) === 0) headers += `X-${junk(pick, 3)}: ${junk(pick, 10)}\r\n`;
  const frame = `${method} ${target} ${version}\r\n${headers}\r\n${payload}`;
  return pick(25) === 0 ? frame.replace("\r\n", "\n") : frame;
}

/** A connection whose answers are read and dropped, reopened when the server closes it. */
class FuzzConn {
  private conn: Deno.Conn | null = null;
  reopened = 0;
  constructor(readonly port: number) {}

  async send(data: Uint8Array): Promise<void> {
    if (this.conn === null) {
      this.conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
      this.reopened++;
      this.drain(this.conn);
    }
    try {
      await this.conn.write(data);
    } catch {
      this.close();
    }
  }

  private async drain(conn: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(1 << 16);
    try {
      while ((await conn.read(buf)) !== null) { /* drop */ }
    } catch { /* reset */ }
    if (this.conn === conn) this.close();
  }

  close(): void {
    try {
      this.conn?.close();
    } catch { /* closed */ }
    this.conn = null;
  }
}

/** Waits until the server counts `idle` connections again: it has let every client go. */
async function connectionsBackTo(port: number, idle: number): Promise<void> {
  let now = await stat(port, "curr_connections");
  for (let waited = 0; now !== idle && waited < 10_000; waited += 50) {
    await sleep(50);
    now = await stat(port, "curr_connections");
  }
  assert.equal(now, idle, "connections the fuzz closed are still open in the server");
}

Deno.test(`fuzz: ${FRAMES} seeded text, binary and HTTP frames (seed ${SEED})`, async () => {
  const server = await startOurs(["--http-timeout", "1000", "--max-inflight", "16m"]);
  const conns: FuzzConn[] = [];
  try {
    const idle = await stat(server.port, "curr_connections");
    const big = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
    await big.write(new TextEncoder().encode(`set big 0 0 100000\r\n${"b".repeat(100_000)}\r\n`));
    await big.read(new Uint8Array(16));
    big.close();
    const watch = new RssWatch(server.process.pid);
    const pick = generator(SEED);
    const encoder = new TextEncoder();
    for (let i = 0; i < CONNECTIONS; i++) {
      conns.push(new FuzzConn(server.port), new FuzzConn(server.port));
      conns.push(new FuzzConn(server.httpPort));
    }
    for (let i = 0; i < FRAMES; i++) {
      const kind = pick(3);
      const conn = conns[pick(CONNECTIONS) * 3 + kind];
      const frame = kind === 0
        ? encoder.encode(textFrame(pick))
        : kind === 1
        ? binaryFrame(pick)
        : encoder.encode(httpFrame(pick));
      await conn.send(frame);
      if (pick(200) === 0) conn.close();
    }
    for (const c of conns) c.close();
    watch.stop();
    console.log(
      `peak RSS ${watch.peak.toFixed(0)} MiB; reconnects ` +
        conns.reduce((n, c) => n + c.reopened, 0),
    );
    assert.ok(watch.peak < 400, `peak ${watch.peak} MiB`);
    // Binary frames cut short shift the stream, so any opcode turns up, flush too: the keys are
    // stored after the fuzz, and must read back whole. The server may still be reading what the
    // fuzz sent (at -t 2 on another thread) until it has closed those connections, and a
    // `flush_all 1` among it would flush the keys stored meanwhile: wait, then cancel it.
    await connectionsBackTo(server.port, idle);
    const c = await RawClient.connect(server.port);
    assert.equal(await c.call("flush_all\r\n", "\r\n"), "OK\r\n");
    c.close();
    await storeSentinels(server.port);
    await assertHealthy(server, `after ${FRAMES} fuzz frames (seed ${SEED})`);
  } finally {
    for (const c of conns) c.close();
    await server.stop();
  }
});
