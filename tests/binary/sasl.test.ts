/** SASL PLAIN on the binary protocol (-S), byte by byte. */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { BinaryClient, type Request, type Response, setExtras, text } from "../helpers/binary.ts";
import { type Child, NO_MEMCACHED, startMemcached, startOurs } from "../helpers/server.ts";

const LIST = 0x20;
const AUTH = 0x21;
const STEP = 0x22;
const plain = (mech: string, message: string, opaque = 0): Request => ({
  opcode: AUTH,
  key: mech,
  value: message,
  opaque,
});

async function passwordDir(): Promise<{ dir: string; file: string }> {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/passwords`;
  await Deno.writeTextFile(file, "alice:s3cret\n# a comment\n\nbob:pa:ss word\r\n");
  return { dir, file };
}

function status(p: Response): string {
  return `${p.status.toString(16)} ${p.value}`;
}

Deno.test("SASL PLAIN on this server", async (t) => {
  const { dir, file } = await passwordDir();
  const server = await startOurs(["-S", "-o", `sasl_password_file=${file}`, "--http-token", "t"]);
  const open: BinaryClient[] = [];
  const connect = async () => {
    const c = await BinaryClient.connect(server.port);
    open.push(c);
    return c;
  };
  try {
    await t.step("mechanisms and version need no authentication", async () => {
      const c = await connect();
      const [mechs, version] = await c.call(2, { opcode: LIST, opaque: 1 }, {
        opcode: 0x0b,
        opaque: 2,
      });
      assert.equal(status(mechs), "0 PLAIN");
      assert.equal(mechs.opaque, 1);
      assert.equal(status(version), "0 1.6.18");
    });

    await t.step("anything else before authentication: auth error, then hang up", async () => {
      const c = await connect();
      const [refused] = await c.call(1, { opcode: 0x00, key: "k", opaque: 42 });
      assert.equal(status(refused), "20 Auth failure.");
      assert.equal(refused.opaque, 42);
      assert.ok(await c.closedByPeer());
    });

    await t.step("a wrong password is refused; the connection stays", async () => {
      const c = await connect();
      const [refused] = await c.call(1, plain("PLAIN", "\0alice\0wrong", 3));
      assert.equal(status(refused), "20 Auth failure.");
      assert.equal(refused.opaque, 3);
      const [wrongUser] = await c.call(1, plain("PLAIN", "\0mallory\0s3cret"));
      assert.equal(wrongUser.status, 0x20);
      const [prefix] = await c.call(1, plain("PLAIN", "\0alice\0s3cre"));
      assert.equal(prefix.status, 0x20);
      const [longer] = await c.call(1, plain("PLAIN", "\0alice\0s3cret!"));
      assert.equal(longer.status, 0x20);
      const [ok] = await c.call(1, plain("PLAIN", "\0alice\0s3cret"));
      assert.equal(status(ok), "0 Authenticated");
    });

    await t.step("the right password opens every command", async () => {
      const c = await connect();
      const [ok] = await c.call(1, plain("PLAIN", "\0bob\0pa:ss word", 5));
      assert.equal(status(ok), "0 Authenticated");
      assert.equal(ok.opaque, 5);
      const [stored, hit] = await c.call(2, {
        opcode: 0x01,
        key: "k",
        value: "v",
        extras: setExtras(0, 0),
      }, { opcode: 0x00, key: "k" });
      assert.equal(stored.status, 0);
      assert.equal(hit.value, "v");
    });

    await t.step("an authorization identity must be the user itself", async () => {
      const c = await connect();
      const [other] = await c.call(1, plain("PLAIN", "bob\0alice\0s3cret"));
      assert.equal(other.status, 0x20);
      const [same] = await c.call(1, plain("PLAIN", "alice\0alice\0s3cret"));
      assert.equal(same.status, 0);
    });

    await t.step("malformed PLAIN messages and other mechanisms are refused", async () => {
      const c = await connect();
      for (const message of ["alice s3cret", "\0alice", "\0alice\0s3cret\0"]) {
        const [refused] = await c.call(1, plain("PLAIN", message));
        assert.equal(refused.status, 0x20, JSON.stringify(message));
      }
      const [cram] = await c.call(1, plain("CRAM-MD5", "\0alice\0s3cret"));
      assert.equal(cram.status, 0x20);
      const [long, version] = await c.call(2, plain("X".repeat(33), "data"), { opcode: 0x0b });
      assert.equal(status(long), "4 Invalid arguments");
      assert.equal(version.value, "1.6.18", "the data of the refused mechanism was skipped");
    });

    await t.step("PLAIN without an initial response continues with a step", async () => {
      const c = await connect();
      const [stray] = await c.call(1, { opcode: STEP, key: "PLAIN", value: "\0alice\0s3cret" });
      assert.equal(stray.status, 0x20, "a step needs a started exchange");
      const [more] = await c.call(1, plain("PLAIN", ""));
      assert.equal(more.status, 0x21);
      assert.equal(more.bodyLength, 0);
      const [ok] = await c.call(1, { opcode: STEP, key: "PLAIN", value: "\0alice\0s3cret" });
      assert.equal(status(ok), "0 Authenticated");
      const [hit] = await c.call(1, { opcode: 0x00, key: "k" });
      assert.equal(hit.status, 0);
    });

    await t.step("listing mechanisms again drops the authentication, as memcached", async () => {
      const c = await connect();
      await c.call(1, plain("PLAIN", "\0alice\0s3cret"));
      await c.call(1, { opcode: LIST });
      const [refused] = await c.call(1, { opcode: 0x00, key: "k" });
      assert.equal(refused.status, 0x20);
    });

    await t.step("auth_cmds and auth_errors count attempts and failures", async () => {
      const c = await connect();
      await c.call(1, plain("PLAIN", "\0alice\0s3cret"));
      await c.call(1, { opcode: 0x10, key: "reset" });
      await c.call(2, plain("PLAIN", "\0alice\0nope"), plain("PLAIN", "\0alice\0s3cret"));
      await c.send({ opcode: 0x10 });
      const { packets } = await c.readUntil((got) => got.some((p) => p.keyLength === 0));
      const stats = new Map(packets.map((p) => [p.key, p.value]));
      assert.equal(stats.get("auth_cmds"), "2");
      assert.equal(stats.get("auth_errors"), "1");
    });

    await t.step("with -S alone the text protocol is off", async () => {
      const raw = await RawClient.connect(server.port);
      await raw.send("get k\r\nget k\r\nget k\r\nget k\r\n");
      assert.ok(await raw.closedByPeer());
      raw.close();
    });
  } finally {
    for (const c of open) c.close();
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/** The refusals are the same as real memcached's -S (which cannot accept anyone here). */
Deno.test("SASL refusals match memcached's", { ignore: NO_MEMCACHED }, async () => {
  const conf = await Deno.makeTempDir();
  await Deno.writeTextFile(`${conf}/memcached.conf`, "mech_list: plain\n");
  const previous = Deno.env.get("SASL_CONF_PATH");
  Deno.env.set("SASL_CONF_PATH", conf);
  let real: Child;
  try {
    real = await startMemcached(["-S"]);
  } finally {
    if (previous === undefined) Deno.env.delete("SASL_CONF_PATH");
    else Deno.env.set("SASL_CONF_PATH", previous);
  }
  const { dir, file } = await passwordDir();
  let ours: Child | null = null;
  try {
    ours = await startOurs(["-S", "-o", `sasl_password_file=${file}`, "--http-token", "t"]);
    const conversation = async (port: number): Promise<string[]> => {
      const c = await BinaryClient.connect(port);
      const lines: string[] = [];
      const say = async (...requests: Request[]) => {
        for (const p of await c.call(requests.length, ...requests)) {
          lines.push(
            `${p.opcode} ${p.status} ${p.opaque} ${p.cas} ${text(p.extras)}|${p.key}|${p.value}`,
          );
        }
      };
      try {
        await say({ opcode: LIST, opaque: 1 }, { opcode: 0x0b, opaque: 2 });
        await say(plain("PLAIN", "\0nobody\0wrong", 3));
        await say({ opcode: STEP, key: "PLAIN", value: "x", opaque: 4 });
        await say(plain("NOPE", "x", 5));
        await say({ opcode: 0x0a, opaque: 6 });
        lines.push(String(await c.closedByPeer()));
        return lines;
      } finally {
        c.close();
      }
    };
    assert.deepEqual(await conversation(ours.port), await conversation(real.port));
  } finally {
    await real?.stop();
    await ours?.stop();
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(conf, { recursive: true });
  }
});

Deno.test("-S with -Y: binary clients use SASL, text clients the -Y set, one password file", async () => {
  const { dir, file } = await passwordDir();
  const server = await startOurs(["-S", "-Y", file, "--http-token", "t"]);
  try {
    const c = await BinaryClient.connect(server.port);
    const [refused] = await c.call(1, plain("PLAIN", "\0alice\0nope"));
    assert.equal(refused.status, 0x20);
    const [ok] = await c.call(1, plain("PLAIN", "\0alice\0s3cret"));
    assert.equal(ok.status, 0);
    await c.call(1, { opcode: 0x01, key: "shared", value: "v", extras: setExtras(0, 0) });
    c.close();

    const raw = await RawClient.connect(server.port);
    assert.equal(await raw.call("get shared\r\n"), "CLIENT_ERROR unauthenticated\r\n");
    assert.equal(await raw.call("set x 0 0 12\r\nalice s3cret\r\n"), "STORED\r\n");
    assert.equal(await raw.call("get shared\r\n", "END\r\n"), "VALUE shared 0 1\r\nv\r\nEND\r\n");
    raw.close();
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
