/**
 * The TLS part of the command line: memcached's options parse with its words and exit codes,
 * what rustls cannot honour is refused with one line and exit 64, and a certificate that cannot
 * serve stops start-up with memcached's message (exit 64).
 */
import assert from "node:assert/strict";
import { type Config, parseConfig, UsageError } from "../../src/config.ts";
import { listenAddresses } from "../../src/startup.ts";
import { makeCerts, NO_OPENSSL } from "../helpers/certs.ts";
import { RawClient } from "../helpers/client.ts";
import { freePort, runMain, startOurs } from "../helpers/server.ts";

function config(args: string[]): Config {
  const r = parseConfig(args);
  if (!("config" in r)) throw new Error("expected a config");
  return r.config;
}

function refused(args: string[], code: number, message: RegExp): void {
  assert.throws(() => parseConfig(args), (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.equal(err.exitCode, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

const Z = ["-Z", "-o", "ssl_chain_cert=/c.pem,ssl_key=/k.pem"];

Deno.test("-Z and memcached's ssl options parse into the TLS settings", () => {
  const off = config([]).tls;
  assert.equal(off.enabled, false);
  assert.equal(off.verifyMode, 0);
  assert.equal(off.minVersion, "TLSv1.2");
  assert.equal(off.wbufSize, 16384);
  const t = config([
    "--enable-ssl",
    "-o",
    "ssl_chain_cert=/c.pem",
    "-o",
    "ssl_key=/k.pem,ssl_ca_cert=/ca.pem,ssl_verify_mode=3,ssl_keyformat=1",
    "-o",
    "ssl_session_cache,ssl_wbuf_size=64,ssl_min_version=3",
  ]).tls;
  assert.deepEqual(
    [t.enabled, t.chainCert, t.key, t.caCert, t.verifyMode, t.sessionCache, t.wbufSize],
    [true, "/c.pem", "/k.pem", "/ca.pem", 3, true, 65536],
  );
  assert.equal(t.minVersion, "TLSv1.3");
  assert.equal(config([...Z, "--tls-handshake-timeout", "250"]).tls.handshakeTimeoutMs, 250);
});

Deno.test("what rustls cannot honour is refused, exit 64; memcached's own checks keep exit 1", () => {
  refused([...Z, "-o", "ssl_ciphers=HIGH"], 64, /^ssl_ciphers is not supported: /);
  refused([...Z, "-o", "ssl_kernel_tls"], 64, /^ssl_kernel_tls is not supported/);
  refused([...Z, "-o", "ssl_keyformat=2"], 64, /only 1 \(PEM\)/);
  refused([...Z, "-o", "ssl_min_version=0"], 64, /TLS 1\.2 and 1\.3 only/);
  refused([...Z, "-o", "ssl_min_version=1"], 64, /TLS 1\.2 and 1\.3 only/);
  refused([...Z, "-o", "ssl_verify_mode=4"], 1, /^Invalid ssl_verify_mode\. /);
  refused([...Z, "-o", "ssl_verify_mode=x"], 1, /^could not parse argument to ssl_verify_mode$/);
  refused([...Z, "-o", "ssl_chain_cert"], 1, /^Missing ssl_chain_cert argument$/);
  refused([...Z, "-o", "ssl_min_version=9"], 1, /^Invalid ssl_min_version\. /);
  refused(["-Z", "-p", "0", "-s", "/tmp/x.sock"], 64, /You cannot enable SSL without a TCP port/);
  refused(["-Z"], 64, /-Z needs a certificate/);
  refused(["--http-tls-cert", "/c.pem"], 64, /--http-tls-key together/);
});

Deno.test("-l notls: keeps a listener plain under -Z, and is refused without it", () => {
  assert.deepEqual(listenAddresses("notls:127.0.0.1:1,127.0.0.1:2", 3, true), [
    { hostname: "127.0.0.1", port: 1, tls: false },
    { hostname: "127.0.0.1", port: 2, tls: true },
  ]);
  assert.throws(
    () => listenAddresses("notls:127.0.0.1:1", 3, false),
    /'notls' option is valid only when SSL is enabled/,
  );
});

Deno.test({
  name: "a certificate that cannot serve stops start-up: memcached's message, one line, exit 64",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const junk = `${certs.dir}/junk.pem`;
    await Deno.writeTextFile(
      junk,
      "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
    );
    const start = (o: string) =>
      runMain(["-Z", "-o", o, "-p", String(freePort()), "--http-port", "0"]);
    const cases: [string, RegExp][] = [
      [
        `ssl_chain_cert=${certs.dir}/none.pem`,
        /^Error loading the certificate chain: .*none\.pem : /,
      ],
      [
        `ssl_chain_cert=${junk},ssl_key=${certs.serverKey}`,
        /^Error loading the certificate chain: .*does not parse/,
      ],
      [
        `ssl_chain_cert=${certs.serverCert}`,
        /^Error loading the key: .*server\.crt : no unencrypted PEM private key/,
      ],
      [
        `ssl_chain_cert=${certs.serverCert},ssl_key=${certs.otherKey}`,
        /^Error validating the certificate: /,
      ],
      [
        `ssl_chain_cert=${certs.serverCert},ssl_key=${certs.serverKey},ssl_ca_cert=${certs.serverKey}`,
        /^Error loading the CA certificate: /,
      ],
    ];
    try {
      for (const [option, message] of cases) {
        const run = await start(option);
        assert.equal(run.code, 64, run.text);
        assert.equal(run.text.trim().split("\n").length, 1, run.text);
        assert.match(run.text, message);
      }
    } finally {
      await certs.remove();
    }
  },
});

Deno.test("an ssl_ option memcached does not know is refused in its words", () => {
  refused([...Z, "-o", "ssl_nonsense=1"], 1, /^Illegal suboption "ssl_nonsense"$/);
});

Deno.test({
  name:
    "a certificate that cannot serve stops start-up before -e's snapshot is loaded (and removed)",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const snapshot = `${certs.dir}/items.snap`;
    try {
      const s = await startOurs(["-e", snapshot, "--http-port", "0"]);
      const c = await RawClient.connect(s.port);
      assert.equal(await c.call("set kept 0 0 1\r\nx\r\n"), "STORED\r\n");
      c.close();
      assert.equal((await s.stop()).code, 0);
      const bad = `ssl_chain_cert=${certs.serverCert},ssl_key=${certs.otherKey}`;
      const run = await runMain(["-Z", "-o", bad, "-e", snapshot, "-p", String(freePort())]);
      assert.equal(run.code, 64, run.text);
      assert.ok((await Deno.stat(snapshot)).isFile, "the snapshot is still there");
    } finally {
      await certs.remove();
    }
  },
});
