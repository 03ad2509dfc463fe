/** Password files, the constant-time comparison, and the -S / -Y command line rules. */
import assert from "node:assert/strict";
import { constantTimeEqual, PasswordFile, PasswordFileError } from "../../src/auth.ts";
import { type Config, parseConfig, UsageError } from "../../src/config.ts";
import { latin1 } from "../helpers/client.ts";

const parse = (text: string) => PasswordFile.parse("test", latin1(text));
const check = (file: PasswordFile, user: string, password: string) =>
  file.check(latin1(user), latin1(password));

Deno.test("password file: user:password lines, the password is the rest of the line", () => {
  const file = parse("alice:s3cret\r\n# comment\n\nbob:pa:ss word\ncarol:\n");
  assert.equal(file.size, 3);
  assert.ok(check(file, "alice", "s3cret"));
  assert.ok(check(file, "bob", "pa:ss word"));
  assert.ok(check(file, "carol", ""));
  assert.ok(!check(file, "alice", "s3cret\r"));
  assert.ok(!check(file, "alice", "s3cre"));
  assert.ok(!check(file, "alice", "s3cret!"));
  assert.ok(!check(file, "alic", "s3cret"));
  assert.ok(!check(file, "bob", "s3cret"), "passwords belong to their own user");
  assert.ok(!check(file, "# comment", ""));
  assert.ok(!check(file, "", ""));
});

Deno.test("password file: a last line without a newline counts", () => {
  assert.ok(check(parse("alice:s3cret"), "alice", "s3cret"));
});

Deno.test("password file: malformed or empty files are refused", () => {
  assert.throws(() => parse("alice s3cret\n"), /test:1: expected user:password/);
  assert.throws(() => parse("alice:x\n:nouser\n"), /test:2/);
  assert.throws(() => parse("\n# nothing\n"), PasswordFileError);
  assert.throws(() => PasswordFile.load("/nonexistent/passwords"), /cannot read password file/);
});

Deno.test("constantTimeEqual compares whole byte strings", () => {
  const b = (s: string) => latin1(s);
  assert.equal(constantTimeEqual(b("abc"), b("abc")), 1);
  assert.equal(constantTimeEqual(b("abd"), b("abc")), 0);
  assert.equal(constantTimeEqual(b("ab"), b("abc")), 0);
  assert.equal(constantTimeEqual(b("abcd"), b("abc")), 0);
  assert.equal(constantTimeEqual(b(""), b("")), 1);
  assert.equal(constantTimeEqual(b("\0"), b("")), 0);
});

function config(args: string[], env: Record<string, string> = {}): Config {
  const r = parseConfig(args, env);
  assert.ok("config" in r);
  return r.config;
}

Deno.test("-S and -Y: protocol binding and password file checks", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/good`;
    const bad = `${dir}/bad`;
    await Deno.writeTextFile(good, "alice:s3cret\n");
    await Deno.writeTextFile(bad, "no colon here\n");

    const sasl = config(["-S", "-o", `sasl_password_file=${good}`]);
    assert.equal(sasl.protocol, "binary");
    assert.equal(sasl.saslPasswordFile, good);
    assert.equal(config(["-S"], { MEMCACHED_SASL_PWDB: good }).saslPasswordFile, good);
    assert.equal(
      config(["-S", "-B", "binary", "-o", `sasl_password_file=${good}`]).protocol,
      "binary",
    );
    assert.throws(() => config(["-S"]), /-S needs a password file/);
    assert.throws(
      () => config(["-S", "-B", "auto", "-o", `sasl_password_file=${good}`]),
      UsageError,
    );
    assert.throws(
      () => config(["-S", "-o", `sasl_password_file=${bad}`]),
      /expected user:password/,
    );
    assert.throws(() => config(["-S", "-o", `sasl_password_file=${dir}/none`]), /cannot read/);

    const text = config(["-Y", good]);
    assert.equal(text.protocol, "ascii");
    assert.equal(text.authFile, good);
    assert.throws(() => config(["-Y", good, "-B", "binary"]), /ascii protocol only/);
    assert.throws(() => config(["-Y", bad]), UsageError);

    // Both: each protocol asks for its own credentials; SASL falls back to the -Y file.
    const both = config(["-S", "-Y", good]);
    assert.equal(both.protocol, "auto");
    assert.equal(both.saslPasswordFile, null);

    assert.equal(config([]).protocol, "auto");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
