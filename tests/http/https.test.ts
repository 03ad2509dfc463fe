/**
 * The HTTP door over HTTPS: under -Z with the memcached door's certificate, or with its own
 * (--http-tls-cert/--http-tls-key, the memcached door plain). curl checks the certificate against
 * the test CA; a plain-HTTP request to the HTTPS port gets a clear refusal.
 */
import assert from "node:assert/strict";
import { makeCerts, NO_OPENSSL, tlsArgs, tlsClient } from "../helpers/certs.ts";
import { RawClient } from "../helpers/client.ts";
import { missing, startOurs } from "../helpers/server.ts";

const NO_CURL = missing("curl", "curl");

async function curl(...args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command("curl", {
    args: ["-sS", ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test({
  name: "-Z: HTTPS with the memcached certificate (curl --cacert); plain HTTP is refused clearly",
  ignore: NO_OPENSSL || NO_CURL,
  async fn() {
    const certs = await makeCerts();
    const s = await startOurs(tlsArgs(certs));
    try {
      const c = await tlsClient(certs, s.port);
      assert.equal(await c.call("set greeting 5 0 5\r\nhello\r\n"), "STORED\r\n");
      c.close();
      const url = `https://localhost:${s.httpPort}/keys/greeting`;
      const got = await curl("--cacert", certs.ca, "-D", "-", url);
      assert.equal(got.code, 0, got.out);
      assert.match(got.out, /^HTTP\/1\.1 200/);
      assert.match(got.out, /x-memcached-flags: 5/i);
      assert.ok(got.out.endsWith("\r\n\r\nhello"), got.out);
      // Without the CA, curl refuses the certificate: it is the server's own, not a public one.
      assert.notEqual((await curl(url)).code, 0);

      const plain = await curl("-D", "-", `http://localhost:${s.httpPort}/keys/greeting`);
      assert.match(plain.out, /^HTTP\/1\.1 400 Bad Request/);
      assert.match(plain.out, /"error":"https_required"/);
      const raw = await RawClient.connect(s.httpPort);
      await raw.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.match(await raw.readFor(1000), /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.ok(await raw.closedByPeer(3000));
      raw.close();
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});

Deno.test({
  name: "--http-tls-cert without -Z: HTTPS with its own certificate, memcached plain",
  ignore: NO_OPENSSL || NO_CURL,
  async fn() {
    const certs = await makeCerts();
    const s = await startOurs([
      "--http-tls-cert",
      certs.otherCert,
      "--http-tls-key",
      certs.otherKey,
    ]);
    try {
      const c = await RawClient.connect(s.port);
      assert.equal(await c.call("set k 0 0 2\r\nhi\r\n"), "STORED\r\n");
      c.close();
      const got = await curl("--cacert", certs.ca, `https://localhost:${s.httpPort}/keys/k`);
      assert.equal(got.out, "hi");
      const issuer = await curl(
        "--cacert",
        certs.ca,
        "-v",
        `https://localhost:${s.httpPort}/health`,
      );
      assert.match(issuer.out, /subject: CN=other/);
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});
