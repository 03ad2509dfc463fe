/** memcached's flags do what memcached does, or are refused or warned about in one line. */
import assert from "node:assert/strict";
import { BinaryClient } from "../helpers/binary.ts";
import { RawClient } from "../helpers/client.ts";
import { call, httpReady } from "../helpers/http.ts";
import {
  freePort,
  missing,
  NO_MEMCACHED,
  portFileOf,
  readPortFile,
  runMain,
  startMemcached,
  startOurs,
  which,
} from "../helpers/server.ts";

const FLUSH = 0x08;
const FLUSHQ = 0x18;
const NOOP = 0x0a;

/** What -F makes of flush_all over both protocols (status, no data, then the stat). */
async function flushRefusals(port: number): Promise<string[]> {
  const text = await RawClient.connect(port);
  const answers = [
    await text.call("flush_all\r\n"),
    await text.call("flush_all 10\r\n"),
    await text.call("flush_all noreply\r\nmn\r\n"),
    (await text.call("stats\r\n", "END\r\n")).match(/STAT cmd_flush \d+/)![0],
    (await text.call("stats settings\r\n", "END\r\n")).match(/STAT flush_enabled \w+/)![0],
  ];
  text.close();
  const binary = await BinaryClient.connect(port);
  for (const p of await binary.call(3, { opcode: FLUSH }, { opcode: FLUSHQ }, { opcode: NOOP })) {
    answers.push(`${p.opcode} ${p.status} ${p.value}`);
  }
  return answers;
}

Deno.test("-F refuses flush_all as memcached does", async () => {
  const ours = await startOurs(["-F"]);
  try {
    const answers = await flushRefusals(ours.port);
    assert.deepEqual(answers.slice(0, 3), [
      "CLIENT_ERROR flush_all not allowed\r\n",
      "CLIENT_ERROR flush_all not allowed\r\n",
      "MN\r\n",
    ]);
    assert.equal(answers[4], "STAT flush_enabled no");
    const base = await httpReady(`http://127.0.0.1:${ours.httpPort}`);
    const refused = await call("POST", `${base}/admin/flush`);
    assert.equal(refused.status, 403);
    assert.match(refused.text, /-F/);
  } finally {
    await ours.stop();
  }
});

Deno.test(
  "-F: the same answers and counters as memcached -F",
  { ignore: NO_MEMCACHED },
  async () => {
    const real = await startMemcached(["-F"]);
    const ours = await startOurs(["-F"]);
    try {
      assert.deepEqual(await flushRefusals(ours.port), await flushRefusals(real.port));
    } finally {
      await real.stop();
      await ours.stop();
    }
  },
);

Deno.test("-P writes the pid file, removed on a clean stop", async () => {
  const dir = await Deno.makeTempDir();
  const pidFile = `${dir}/memcached.pid`;
  const server = await startOurs(["-P", pidFile]);
  try {
    // The port answers before the pid file is written; the start-up line comes after it.
    await server.waitForOutput(/listening/);
    assert.equal(await Deno.readTextFile(pidFile), `${server.process.pid}\n`);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
  assert.throws(() => Deno.statSync(pidFile), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("-d is refused with the reason, in one line", async () => {
  const run = await runMain(["-d"]);
  assert.equal(run.code, 64);
  assert.equal(run.text.trim().split("\n").length, 1, run.text);
  assert.match(run.text, /-d .*cannot fork.*systemd/);
});

Deno.test("-b sets the memcached listener's backlog, shown as tcp_backlog as memcached shows it", {
  ignore: missing("ss", "iproute2"),
}, async () => {
  const server = await startOurs(["-b", "300"]);
  try {
    const out = await server.waitForOutput(/listening/);
    assert.doesNotMatch(out, /ignoring "-b/);
    const c = await RawClient.connect(server.port);
    assert.match(await c.call("stats settings\r\n", "END\r\n"), /STAT tcp_backlog 300\r\n/);
    c.close();
    // ss shows a listening socket's backlog in its Send-Q column.
    const ss = new Deno.Command("ss", { args: ["-ltnH", `sport = :${server.port}`] }).outputSync();
    assert.match(new TextDecoder().decode(ss.stdout), /^LISTEN\s+\d+\s+300\s/m);
  } finally {
    await server.stop();
  }
});

/** Flags memcached refuses at start-up, with the message and exit status memcached gives. */
const REFUSED: [string[], string, number][] = [
  [["-I", "33m", "-m", "64"], "Cannot set item size limit higher than 1/2 of memory max.", 64],
  [["-I", "2m", "-m", "2"], "Cannot set item size limit higher than 1/2 of memory max.", 64],
  [["-I", "512"], "Item max size cannot be less than 1024 bytes.", 64],
  [["-I", "1025m", "-m", "4096"], "Cannot set item size limit higher than a gigabyte.", 64],
  [["-t", "0"], "Number of threads must be greater than 0", 1],
];

Deno.test("-I against -m, and -t 0: memcached's messages and exit codes", async () => {
  for (const [args, message, code] of REFUSED) {
    const run = await runMain([...args, "-p", "0", "--http-port", "0"]);
    assert.equal(run.code, code, `${args.join(" ")}: ${run.text}`);
    assert.equal(run.text, `${message}\n`);
  }
  const half = await startOurs(["-I", "32m", "-m", "64"]);
  await half.stop();
});

Deno.test("the refusals above are real memcached's", { ignore: NO_MEMCACHED }, async () => {
  const user = Deno.uid() === 0 ? ["-u", "root"] : [];
  for (const [args, message, code] of REFUSED) {
    const run = await new Deno.Command(which("memcached")!, {
      args: [...args, "-p", "0", "-U", "0", ...user],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(run.code, code, args.join(" "));
    assert.equal(new TextDecoder().decode(run.stderr), `${message}\n`);
  }
});

/** Starts a server with `-p -1` and MEMCACHED_PORT_FILENAME; returns the file's text. */
Deno.test("-p -1 picks a free port and writes it to MEMCACHED_PORT_FILENAME", async () => {
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const text = await readPortFile(Deno.execPath(), [
    "run",
    "-A",
    main,
    "-p",
    "-1",
    "--http-port",
    "0",
  ]);
  const m = /^TCP INET: (\d+)\n$/.exec(text);
  assert.ok(m, JSON.stringify(text));
  assert.notEqual(Number(m[1]), 0);
});

Deno.test("-p 0 without -s still writes the (empty) port file, as memcached", async () => {
  // memcached's t/issue_67.t waits for the file to know the server is up.
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const ours = await portFileOf(Deno.execPath(), [
    "run",
    "-A",
    main,
    "-p",
    "0",
    "--http-port",
    "0",
  ]);
  assert.equal(ours, "");
  if (!NO_MEMCACHED) {
    const user = Deno.uid() === 0 ? ["-u", "root"] : [];
    assert.equal(await portFileOf(which("memcached")!, ["-p", "0", "-U", "0", ...user]), "");
  }
});

Deno.test("the port file has memcached's format", { ignore: NO_MEMCACHED }, async () => {
  const user = Deno.uid() === 0 ? ["-u", "root"] : [];
  const args = ["-p", "-1", "-U", "0", "-l", "127.0.0.1", ...user];
  const text = await readPortFile(which("memcached")!, args);
  assert.match(text, /^TCP INET: \d+\n$/);
});

Deno.test("stats settings lists the honoured settings under memcached's names", async () => {
  const port = freePort();
  const server = await startOurs(["-p", String(port), "-F", "-c", "99", "-I", "2m", "-A"]);
  try {
    const c = await RawClient.connect(port);
    const settings = await c.call("stats settings\r\n", "END\r\n");
    c.close();
    for (
      const line of [
        `tcpport ${port}`,
        "maxconns 99",
        "item_size_max 2097152",
        "flush_enabled no",
        "shutdown_command yes",
        "tcp_backlog 1024",
        "cas_enabled yes",
        "evictions on",
      ]
    ) {
      assert.ok(settings.includes(`STAT ${line}\r\n`), `${line} in\n${settings}`);
    }
  } finally {
    await server.stop();
  }
});
