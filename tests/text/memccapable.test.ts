/** libmemcached's protocol conformance suite, text (-a) and binary (-b), against the real server. */
import assert from "node:assert/strict";
import { missing, startOurs, which } from "../helpers/server.ts";

const NO_MEMCCAPABLE = missing("memccapable", "libmemcached-tools");

async function memccapable(mode: "-a" | "-b"): Promise<void> {
  const bin = which("memccapable")!;
  const server = await startOurs();
  try {
    const run = await new Deno.Command(bin, {
      args: ["-h", "127.0.0.1", "-p", String(server.port), mode],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
    const passed = text.match(/\[pass\]/g)?.length ?? 0;
    const failed = text.match(/\[fail\]/g)?.length ?? 0;
    assert.equal(failed, 0, text);
    assert.equal(passed, 27, text);
    assert.match(text, /All tests passed/);
    assert.equal(run.code, 0);
  } finally {
    await server.stop();
  }
}

const options = { ignore: NO_MEMCCAPABLE };
Deno.test("memccapable -a passes every text protocol test", options, () => memccapable("-a"));
Deno.test("memccapable -b passes every binary protocol test", options, () => memccapable("-b"));
