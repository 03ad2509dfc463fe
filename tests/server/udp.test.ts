/** memcached's UDP door (-U): framing, answers split into datagrams, and its rules, against memcached. */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { arithExtras, packet, parsePackets, setExtras } from "../helpers/binary.ts";
import { latin1, RawClient } from "../helpers/client.ts";
import { withBoth } from "../helpers/differential.ts";
import {
  type Child,
  freePort,
  freeUdpPort,
  NO_MEMCACHED,
  readPortFile,
  runMain,
  startMemcached,
  startOurs,
  which,
} from "../helpers/server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const enc = new TextEncoder();

/** The datagrams of one answer, in arrival order, as [requestId, seq, total, payload]. */
type Datagram = [number, number, number, string];

class UdpClient {
  private socket = dgram.createSocket("udp4");
  private received: Datagram[] = [];
  private ready: Promise<void>;

  constructor(private port: number) {
    this.socket.on("message", (m: Uint8Array) => {
      const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
      const payload = new TextDecoder("latin1").decode(m.subarray(8));
      this.received.push([v.getUint16(0), v.getUint16(2), v.getUint16(4), payload]);
    });
    this.ready = new Promise((r) => this.socket.bind(0, "127.0.0.1", () => r()));
  }

  /** Sends one framed request and collects what comes back within `ms`. */
  async ask(
    requestId: number,
    body: string | Uint8Array,
    header = { seq: 0, total: 1 },
    ms = 1000,
    untilWhole = true,
  ): Promise<Datagram[]> {
    await this.ready;
    const data = typeof body === "string" ? enc.encode(body) : body;
    const frame = new Uint8Array(8 + data.length);
    const v = new DataView(frame.buffer);
    v.setUint16(0, requestId);
    v.setUint16(2, header.seq);
    v.setUint16(4, header.total);
    frame.set(data, 8);
    this.received = [];
    await new Promise<void>((r) => this.socket.send(frame, this.port, "127.0.0.1", () => r()));
    // Until the answer is whole (as many datagrams as the first says), else for `ms`.
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const total = this.received[0]?.[2];
      if (untilWhole && total !== undefined && this.received.length >= total) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.received;
  }

  close(): void {
    this.socket.close();
  }
}

/** Runs `body` with memcached and this server, each with a UDP door and its client. */
async function withBothUdp(body: (real: UdpClient, ours: UdpClient) => Promise<void>) {
  const realUdp = await freeUdpPort();
  const oursUdp = await freeUdpPort();
  const ours = await startOurs(["-U", String(oursUdp)]);
  try {
    await withBoth(["-U", String(realUdp)], async () => {
      const real = new UdpClient(realUdp);
      const mine = new UdpClient(oursUdp);
      try {
        await body(real, mine);
      } finally {
        real.close();
        mine.close();
      }
    });
  } finally {
    await ours.stop();
  }
}

/** The answer's payload, with each datagram's header checked against the request. */
function joined(answer: Datagram[], requestId: number): string {
  const total = answer[0]?.[2] ?? 0;
  assert.equal(answer.length, total, "every datagram of the answer arrives");
  const bySeq = [...answer].sort((a, b) => a[1] - b[1]);
  bySeq.forEach(([id, seq, count], i) => {
    assert.equal(id, requestId);
    assert.equal(seq, i);
    assert.equal(count, total);
  });
  return bySeq.map((d) => d[3]).join("");
}

/** A binary answer with its CAS zeroed: the two servers number items differently. */
function withoutCas(text: string): string {
  return text.slice(0, 16) + "\0".repeat(8) + text.slice(24);
}

Deno.test("UDP: text and binary requests get memcached's answers and framing", {
  ...opts,
  ignore: NO_MEMCACHED,
}, async (t) => {
  await withBothUdp(async (real, ours) => {
    const textCases: [string, string][] = [
      ["set", "set foo 0 0 6\r\nfooval\r\n"],
      ["get", "get foo\r\n"],
      ["miss", "get nothing\r\n"],
      ["incr on text", "incr foo 1\r\n"],
      ["unknown command", "bogus\r\n"],
      ["delete", "delete foo\r\n"],
    ];
    for (const [name, body] of textCases) {
      await t.step(name, async () => {
        const expected = joined(await real.ask(161, body), 161);
        assert.equal(joined(await ours.ask(161, body), 161), expected);
      });
    }

    await t.step("several requests in one datagram: the same bytes", async () => {
      // memcached sends each request's answer as a message of its own (every datagram saying
      // sequence 0 of 1); this server answers the datagram as one message. The bytes are the same.
      const body = "set n 0 0 1\r\n5\r\nincr n 2\r\nget n\r\n";
      const payload = (answer: Datagram[]) => answer.map((d) => d[3]).join("");
      const expected = payload(await real.ask(9, body, undefined, 300, false));
      assert.equal(expected, "STORED\r\n7\r\nVALUE n 0 1\r\n7\r\nEND\r\n");
      assert.equal(joined(await ours.ask(9, body), 9), expected);
    });

    await t.step("binary set, get, incr and delete", async () => {
      const requests = [
        packet({ opcode: 0x01, key: "bk", extras: setExtras(3, 0), value: "abcd" }),
        packet({ opcode: 0x00, key: "bk" }),
        packet({ opcode: 0x00, key: "missing" }),
        packet({ opcode: 0x05, key: "counter", extras: arithExtras(2n, 10n, 0) }),
        packet({ opcode: 0x05, key: "counter", extras: arithExtras(2n, 10n, 0) }),
        packet({ opcode: 0x04, key: "bk" }),
      ];
      for (const request of requests) {
        const expected = withoutCas(joined(await real.ask(45, request), 45));
        assert.equal(withoutCas(joined(await ours.ask(45, request), 45)), expected);
        assert.equal(parsePackets(latin1(expected)).packets.length, 1);
      }
    });

    await t.step("a request in several datagrams, or a bare header, gets no answer", async () => {
      for (const client of [real, ours]) {
        assert.deepEqual(await client.ask(7, "get foo\r\n", { seq: 0, total: 2 }, 300), []);
        assert.deepEqual(await client.ask(7, new Uint8Array(0), undefined, 300), []);
      }
    });
  });
});

Deno.test("UDP: a value over one datagram is split at memcached's 1400 bytes, in order", {
  ...opts,
  ignore: NO_MEMCACHED,
}, async () => {
  const big = "ABCDEFGHIJ".repeat(2000);
  const realUdp = await freeUdpPort();
  const oursUdp = await freeUdpPort();
  const servers: Child[] = [
    await startMemcached(["-U", String(realUdp)]),
    await startOurs(["-U", String(oursUdp)]),
  ];
  try {
    const answers: Datagram[][] = [];
    for (const [i, udp] of [realUdp, oursUdp].entries()) {
      const tcp = await RawClient.connect(servers[i].port);
      assert.equal(await tcp.call(`set big 0 0 ${big.length}\r\n${big}\r\n`), "STORED\r\n");
      tcp.close();
      const client = new UdpClient(udp);
      answers.push(await client.ask(53, "get big\r\n"));
      client.close();
    }
    const [theirs, mine] = answers;
    assert.equal(joined(mine, 53), `VALUE big 0 ${big.length}\r\n${big}\r\nEND\r\n`);
    assert.equal(joined(mine, 53), joined(theirs, 53));
    assert.equal(mine.length, theirs.length);
    assert.deepEqual(mine.map((d) => d[3].length + 8), theirs.map((d) => d[3].length + 8));
    assert.ok(mine.every((d) => d[3].length + 8 <= 1400));
  } finally {
    for (const s of servers) await s.stop();
  }
});

Deno.test(
  "UDP: stats conns lists the socket as memcached does; -U alone moves TCP there",
  opts,
  async () => {
    const udp = await freeUdpPort();
    const server = await startOurs(["-U", String(udp), "-p", String(udp)]);
    try {
      const c = await RawClient.connect(server.port);
      const conns = await c.call("stats conns\r\n", "END\r\n");
      c.close();
      assert.match(
        conns,
        new RegExp(
          `STAT (\\d+):UDP UDP\r\nSTAT \\1:addr udp:127\\.0\\.0\\.1:${udp}\r\nSTAT \\1:state conn_read\r\n`,
        ),
      );
    } finally {
      await server.stop();
    }
    // Without -p, memcached's TCP port follows -U; the port file lists TCP, then UDP.
    const main = new URL("../../main.ts", import.meta.url).pathname;
    const alone = await readPortFile(Deno.execPath(), [
      ...["run", "-A", main, "-U", String(udp), "--http-port", "0"],
    ]);
    assert.equal(alone, `TCP INET: ${udp}\nUDP INET: ${udp}\n`);
    if (!NO_MEMCACHED) {
      const user = Deno.uid() === 0 ? ["-u", "root"] : [];
      const other = await freeUdpPort();
      const theirs = await readPortFile(which("memcached")!, [
        ...["-U", String(other), "-l", "127.0.0.1", ...user],
      ]);
      assert.equal(theirs, `TCP INET: ${other}\nUDP INET: ${other}\n`);
    }
  },
);

Deno.test(
  "UDP: -U with -S is refused as memcached refuses it; a busy port fails start-up",
  opts,
  async () => {
    const refused = await runMain(["-S", "-U", "11311", "-p", String(freePort())]);
    assert.equal(refused.code, 64);
    assert.match(refused.text, /Cannot enable UDP while using binary SASL authentication/);

    const taken = dgram.createSocket("udp4");
    const port = await new Promise<number>((r) =>
      taken.bind(0, "127.0.0.1", () => r(taken.address().port))
    );
    try {
      const busy = await runMain([
        "-U",
        String(port),
        "-p",
        String(freePort()),
        "--http-port",
        "0",
      ]);
      assert.equal(busy.code, 71);
      assert.match(
        busy.text,
        new RegExp(`failed to listen: memcached UDP on 127\\.0\\.0\\.1:${port}`),
      );
    } finally {
      taken.close();
    }
  },
);

/** Port file lines as { "TCP INET": port, "UDP INET": port }. */
function portsOf(file: string): Record<string, number> {
  return Object.fromEntries(
    file.trim().split("\n").map((l) => l.split(/:\s+/)).map(([k, v]) => [k, Number(v)]),
  );
}

Deno.test(
  "UDP: -U -1 binds a free port, written to the port file, as memcached",
  opts,
  async () => {
    const main = new URL("../../main.ts", import.meta.url).pathname;
    const ours = ["run", "-A", main, "--http-port", "0"];
    // -U -1 alone: TCP follows it, so each door gets a free port.
    const alone = portsOf(await readPortFile(Deno.execPath(), [...ours, "-U", "-1"]));
    assert.deepEqual(Object.keys(alone), ["TCP INET", "UDP INET"]);
    assert.ok(alone["TCP INET"] > 0 && alone["UDP INET"] > 0, JSON.stringify(alone));
    if (!NO_MEMCACHED) {
      const user = Deno.uid() === 0 ? ["-u", "root"] : [];
      const theirs = portsOf(
        await readPortFile(which("memcached")!, ["-U", "-1", "-l", "127.0.0.1", ...user]),
      );
      assert.deepEqual(Object.keys(theirs), Object.keys(alone));
    }
    // With -p, TCP keeps its port; the free UDP port answers, and stats settings says -1.
    const tcp = freePort();
    let version = "";
    let settings = "";
    const file = await readPortFile(
      Deno.execPath(),
      [...ours, "-p", String(tcp), "-U", "-1"],
      async (text) => {
        const client = new UdpClient(portsOf(text)["UDP INET"]);
        version = (await client.ask(7, "version\r\n"))[0]?.[3] ?? "";
        client.close();
        const c = await RawClient.connect(tcp);
        settings = await c.call("stats settings\r\n", "END\r\n");
        c.close();
      },
    );
    assert.equal(portsOf(file)["TCP INET"], tcp);
    assert.ok(portsOf(file)["UDP INET"] > 0, file);
    assert.match(version, /^VERSION /);
    assert.match(settings, /STAT tcpport \d+\r\nSTAT udpport -1\r\n/);
  },
);
