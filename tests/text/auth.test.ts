/**
 * Text protocol authentication (-Y FILE): compared step by step with real memcached -Y, then the
 * counters on this server.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { packet } from "../helpers/binary.ts";
import { type Child, NO_MEMCACHED, startMemcached, startOurs } from "../helpers/server.ts";

/** What to send, and how the answer ends ("" = expect none yet, null = the server hangs up). */
type Step = [string | Uint8Array, string | null];

const cases: Record<string, Step[]> = {
  "a command before authenticating": [["get foo\r\n", "\r\n"], ["version\r\n", "\r\n"]],
  "the right credentials, then commands in the same write": [
    ["set x 0 0 12\r\nalice s3cret\r\nset a 0 0 1\r\nz\r\nget a\r\nversion\r\n", "1.6.18\r\n"],
  ],
  "a wrong password, sent in two writes": [
    ["set x 0 0 11\r\n", ""],
    ["alice wrong\r\n", "\r\n"],
    ["get a\r\n", "\r\n"],
    ["set x 0 0 12\r\nalice s3cret\r\n", "\r\n"],
    ["version\r\n", "\r\n"],
  ],
  "answers sent together: only the last one arrives, as in memcached": [
    ["set x 0 0 11\r\nalice wrong\r\nget a\r\n", "\r\n"],
    ["get a\r\nset x 0 0 12\r\nalice s3cret\r\n", "\r\n"],
    ["version\r\n", "\r\n"],
  ],
  "one word of credentials": [["set x 0 0 5\r\nalice\r\n", "\r\n"], ["get a\r\n", "\r\n"]],
  "credentials cut at a NUL byte": [["set x 0 0 12\r\nalice\0s3cret\r\n", "\r\n"]],
  "credentials without CRLF after them": [["set x 0 0 12\r\nalice s3cretXX", "\r\n"]],
  "extra words after the password": [["set x 0 0 17\r\nalice s3cret more\r\nversion\r\n", "8\r\n"]],
  "noreply and spaces do not matter": [
    ["set  x 0 0 14 noreply\r\n alice  s3cret\r\nversion\r\n", "8\r\n"],
  ],
  "a bare LF ends the line": [["set x 0 0 12\nalice s3cret\r\nversion\r\n", "8\r\n"]],
  "only set authenticates": [["add x 0 0 12\r\nalice s3cret\r\n", "\r\n"]],
  "too few words": [["set x 0 0\r\n", "\r\n"]],
  "a length that is not a number": [["set x 0 0 abc\r\n", "\r\n"], ["set x 0 0 -1\r\n", "\r\n"]],
  "an empty line": [["\r\n", "\r\n"]],
  "a binary request is just bytes here": [[packet({ opcode: 0x0a }), "\r\n"]],
  "a long line without a newline": [["x".repeat(3000), null]],
  "credentials larger than the read buffer": [
    [`set x 0 0 20000\r\nalice s3cret${" ".repeat(19988)}\r\n`, null],
  ],
  "credentials that just fit": [
    [`set x 0 0 16000\r\nalice s3cret${" ".repeat(15988)}\r\nversion\r\n`, "8\r\n"],
  ],
};

async function converse(port: number, steps: Step[]): Promise<string[]> {
  const client = await RawClient.connect(port);
  const transcript: string[] = [];
  try {
    for (const [request, ending] of steps) {
      await client.send(request);
      if (ending === "") continue;
      if (ending === null) {
        // A hang-up with unread data arrives as a reset: either way the connection is gone.
        const last = await client.readUntil(() => false, 2000).catch(() => "");
        transcript.push(JSON.stringify(last));
        transcript.push(`closed: ${await client.closedByPeer()}`);
        continue;
      }
      transcript.push(JSON.stringify(await client.readUntil((t) => t.endsWith(ending), 3000)));
    }
    return transcript;
  } finally {
    client.close();
  }
}

async function passwordFile(): Promise<{ dir: string; file: string }> {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/auth`;
  await Deno.writeTextFile(file, "alice:s3cret\n");
  return { dir, file };
}

Deno.test("-Y text authentication answers like memcached", { ignore: NO_MEMCACHED }, async (t) => {
  const { dir, file } = await passwordFile();
  let real: Child | null = null;
  let ours: Child | null = null;
  try {
    real = await startMemcached(["-Y", file]);
    ours = await startOurs(["-Y", file, "--http-token", "t"]);
    for (const [name, steps] of Object.entries(cases)) {
      await t.step(name, async () => {
        const expected = await converse(real!.port, steps);
        assert.ok(expected.some((line) => line !== '""'), "memcached said nothing");
        assert.deepEqual(await converse(ours!.port, steps), expected);
      });
    }
  } finally {
    await real?.stop();
    await ours?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("-Y: authentication counters, and what gets through", async () => {
  const { dir, file } = await passwordFile();
  const server = await startOurs(["-Y", file, "--http-token", "t"]);
  try {
    const client = await RawClient.connect(server.port);
    assert.equal(await client.call("get a\r\n"), "CLIENT_ERROR unauthenticated\r\n");
    assert.equal(
      await client.call("set x 0 0 11\r\nalice wrong\r\n"),
      "CLIENT_ERROR authentication failure\r\n",
    );
    assert.equal(await client.call("stats\r\n"), "CLIENT_ERROR unauthenticated\r\n");
    assert.equal(await client.call("set x 0 0 12\r\nalice s3cret\r\n"), "STORED\r\n");
    const stats = await client.call("stats\r\n", "END\r\n");
    assert.match(stats, /\r\nSTAT auth_cmds 2\r\n/);
    assert.match(stats, /\r\nSTAT auth_errors 1\r\n/);
    assert.match(stats, /\r\nSTAT cmd_set 0\r\n/, "the authentication set stores nothing");
    assert.equal(await client.call("get x\r\n"), "END\r\n");
    client.close();

    // -Y alone binds the text protocol: a binary client gets no binary answer.
    const binary = await RawClient.connect(server.port);
    await binary.send(packet({ opcode: 0x0a }));
    assert.equal(
      await binary.readUntil((t) => t.endsWith("\r\n")),
      "CLIENT_ERROR unauthenticated\r\n",
    );
    binary.close();
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
