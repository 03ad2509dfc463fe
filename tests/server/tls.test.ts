/**
 * TLS on the memcached door (-Z): the store over TLS beside a `notls:` listener, each
 * ssl_verify_mode with and without a client certificate (memcached -Z alongside where installed),
 * refresh_certs with good and bad files, and the TLS lines of `stats` and `stats settings`.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { clientsOnEveryThread, closeAll } from "../helpers/threads.ts";
import {
  makeCerts,
  NO_OPENSSL,
  peerName,
  type TestCerts,
  tlsArgs,
  tlsClient,
  tryVersion,
} from "../helpers/certs.ts";
import {
  type Child,
  freePort,
  NO_MEMCACHED,
  startMemcached,
  startOurs,
} from "../helpers/server.ts";

/** Our server with TLS on `secure` (its -p) beside a plain `notls:` listener on `plain`. */
async function tlsBesidePlain(certs: TestCerts, ...more: string[]) {
  const plain = freePort();
  const secure = freePort();
  const s = await startOurs([
    ...tlsArgs(certs, ...more),
    "-p",
    String(secure),
    "-l",
    `notls:127.0.0.1:${plain},127.0.0.1:${secure}`,
  ]);
  return { s, plain, secure };
}

Deno.test({
  name: "-Z: TLS and a notls: listener serve one store",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const { s, plain, secure } = await tlsBesidePlain(certs);
    try {
      const t = await tlsClient(certs, secure);
      assert.equal(await t.call("set k 0 0 3\r\nabc\r\n"), "STORED\r\n");
      const p = await RawClient.connect(plain);
      assert.equal(await p.call("get k\r\n", "END\r\n"), "VALUE k 0 3\r\nabc\r\nEND\r\n");
      // The TLS port does not speak plain text, nor the plain port TLS.
      const wrong = await RawClient.connect(secure);
      await wrong.send("get k\r\n");
      assert.ok(await wrong.closedByPeer(5000), "plain text on the TLS port is closed");
      await assert.rejects(tlsClient(certs, plain));
      assert.equal(await t.call("get k\r\n", "END\r\n"), "VALUE k 0 3\r\nabc\r\nEND\r\n");
      for (const c of [t, p, wrong]) c.close();
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});

type Who = "none" | "client" | "rogue";
const WHO: Who[] = ["none", "client", "rogue"];

/**
 * Who gets served at each verify mode, with ssl_ca_cert and without: memcached's (OpenSSL's)
 * rules. Without a CA no certificate verifies (python-binary-memcached's TLS tests run mode 1 so).
 */
const EXPECTED: [number, boolean, Who[]][] = [
  [0, true, ["none", "client", "rogue"]],
  [1, true, ["none", "client"]],
  [2, true, ["client"]],
  [3, true, ["client"]],
  [1, false, ["none"]],
  [2, false, []],
];

Deno.test({
  name:
    "ssl_verify_mode 0-3, without a client certificate, with one the CA signed, with a rogue one",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    try {
      for (const [mode, withCa, expected] of EXPECTED) {
        const ca = withCa ? `,ssl_ca_cert=${certs.ca}` : "";
        const args = tlsArgs(certs, "-o", `ssl_verify_mode=${mode}${ca}`);
        const servers: [string, Child][] = [["ours", await startOurs(args)]];
        if (!NO_MEMCACHED) servers.push(["memcached", await startMemcached(args)]);
        try {
          for (const [name, server] of servers) {
            const served: Who[] = [];
            for (const who of WHO) {
              const result = await tryVersion(certs, server.port, who === "none" ? undefined : who);
              if (result === "ok") served.push(who);
            }
            assert.deepEqual(served, expected, `${name}, ssl_verify_mode=${mode}${ca}`);
          }
        } finally {
          for (const [, server] of servers) await server.stop();
        }
      }
    } finally {
      await certs.remove();
    }
  },
});

Deno.test({
  name:
    "refresh_certs: new connections get the new certificate, open ones go on, a bad file keeps the old",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const chain = `${certs.dir}/live.crt`;
    const key = `${certs.dir}/live.key`;
    await Deno.copyFile(certs.serverCert, chain);
    await Deno.copyFile(certs.serverKey, key);
    const s = await startOurs([
      "-Z",
      "-o",
      `ssl_chain_cert=${chain},ssl_key=${key}`,
      "--enable-debugtime",
    ]);
    try {
      const open = await tlsClient(certs, s.port);
      assert.equal(await peerName(certs, s.port), "localhost");
      assert.equal(await open.call("debugtime 100\r\n"), "OK\r\n");
      const since = async () =>
        Number(
          /time_since_server_cert_refresh (\d+)/.exec(await open.call("stats\r\n", "END\r\n"))![1],
        );
      assert.ok(await since() >= 100);

      await Deno.copyFile(certs.otherCert, chain);
      await Deno.copyFile(certs.otherKey, key);
      assert.equal(await open.call("refresh_certs\r\n"), "OK\r\n");
      assert.ok(await since() < 100, "the refresh time moved");
      assert.equal(await peerName(certs, s.port), "other");
      assert.equal(await open.call("set k 0 0 1\r\nx\r\n"), "STORED\r\n", "the open one goes on");

      // A bad file: the error, and the certificate loaded before stays.
      await Deno.writeTextFile(chain, "not a certificate\n");
      assert.match(
        await open.call("refresh_certs\r\n"),
        new RegExp(`^Error loading the certificate chain: ${chain} : .+\r\n$`),
      );
      await Deno.copyFile(certs.serverCert, chain); // the key is still other's
      assert.match(
        await open.call("refresh_certs\r\n"),
        /^Error validating the certificate: .+\r\n$/,
      );
      await Deno.remove(key);
      assert.match(
        await open.call("refresh_certs\r\n"),
        new RegExp(`^Error loading the key: ${key} : `),
      );
      assert.equal(await peerName(certs, s.port), "other");
      assert.equal(await tryVersion(certs, s.port), "ok");

      await Deno.copyFile(certs.serverKey, key);
      assert.equal(await open.call("refresh_certs noreply\r\nversion\r\n"), "VERSION 1.6.18\r\n");
      assert.equal(await peerName(certs, s.port), "localhost");
      open.close();
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});

Deno.test({
  name: "refresh_certs without TLS answers memcached's error",
  async fn() {
    const servers: Child[] = [await startOurs()];
    if (!NO_MEMCACHED) servers.push(await startMemcached());
    try {
      for (const s of servers) {
        const c = await RawClient.connect(s.port);
        assert.equal(await c.call("refresh_certs\r\n"), "Error TLS not enabled\r\n");
        c.close();
      }
    } finally {
      for (const s of servers) await s.stop();
    }
  },
});

/** The stat lines whose names match, in order, without values that must differ. */
async function tlsLines(client: RawClient, group: string): Promise<string[]> {
  const text = await client.call(`stats${group}\r\n`, "END\r\n");
  return text.split("\r\n")
    .filter((l) =>
      /^STAT (ssl_|time_since_server_cert_refresh|log_watchers|unexpected_napi)/.test(l)
    )
    .map((l) => l.replace(/^(STAT time_since_server_cert_refresh) \d+$/, "$1 N"));
}

Deno.test({
  name: "the TLS lines of stats and stats settings, as memcached -Z prints them",
  ignore: NO_OPENSSL || NO_MEMCACHED,
  async fn() {
    const certs = await makeCerts();
    const args = tlsArgs(certs, "-o", `ssl_ca_cert=${certs.ca},ssl_session_cache,ssl_wbuf_size=32`);
    const ours = await startOurs([...args, "--http-port", "0"]);
    const real = await startMemcached(args);
    try {
      const seen: string[][] = [];
      for (const s of [ours, real]) {
        const c = await tlsClient(certs, s.port);
        const general = await tlsLines(c, "");
        const settings = await tlsLines(c, " settings");
        c.close();
        if (s === ours) {
          assert.ok(general.includes("STAT ssl_new_sessions 1"), general.join("\n"));
          assert.ok(general.includes("STAT ssl_handshake_errors 1"), "the start-up probe counts");
        }
        // Ours counts one new session per full handshake, memcached one per ticket TLS 1.3 sends;
        // memcached counts the start-up probe's connection only when its FIN came before accept.
        seen.push([
          ...general.map((l) =>
            l.replace(/^(STAT ssl_new_sessions|STAT ssl_handshake_errors) \d+$/, "$1 N")
          ),
          ...settings,
        ]);
      }
      assert.deepEqual(seen[0], seen[1]);
      assert.ok(seen[0].includes("STAT ssl_wbuf_size 32768"), seen[0].join("\n"));
    } finally {
      await ours.stop();
      await real.stop();
      await certs.remove();
    }
  },
});

Deno.test({
  name: "ssl_min_version=3 refuses a TLS 1.2 client; the default takes it",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    try {
      for (const [extra, ok] of [[[], true], [["-o", "ssl_min_version=3"], false]] as const) {
        const s = await startOurs(tlsArgs(certs, ...extra));
        try {
          const out = await new Deno.Command("openssl", {
            args: ["s_client", "-connect", `127.0.0.1:${s.port}`, "-tls1_2", "-CAfile", certs.ca],
            stdin: "null",
            stdout: "piped",
            stderr: "piped",
          }).output();
          const text = new TextDecoder().decode(out.stdout);
          assert.equal(/New, TLSv1\.2, Cipher is [A-Z]/.test(text), ok, text);
        } finally {
          await s.stop();
        }
      }
    } finally {
      await certs.remove();
    }
  },
});

Deno.test({
  name:
    "a PKCS#8 key under an 'EC PRIVATE KEY' label is read, as OpenSSL reads it (Go's test keys)",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const key = `${certs.dir}/relabeled.key`;
    const pem = await Deno.readTextFile(certs.serverKey);
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
    await Deno.writeTextFile(key, pem.replaceAll("PRIVATE KEY-----", "EC PRIVATE KEY-----"));
    const s = await startOurs(["-Z", "-o", `ssl_chain_cert=${certs.serverCert},ssl_key=${key}`]);
    try {
      assert.equal(await tryVersion(certs, s.port), "ok");
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});

Deno.test({
  name: "-t 2: every thread serves TLS, and refresh_certs on one reloads every thread's",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const chain = `${certs.dir}/live.crt`;
    const key = `${certs.dir}/live.key`;
    await Deno.copyFile(certs.serverCert, chain);
    await Deno.copyFile(certs.serverKey, key);
    const s = await startOurs(["-t", "2", "-Z", "-o", `ssl_chain_cert=${chain},ssl_key=${key}`]);
    try {
      // The kernel spreads connections over the threads by their ports: 16 reach both but once
      // in 32,768 runs.
      const names = async () => {
        const seen: string[] = [];
        for (let i = 0; i < 16; i++) seen.push(await peerName(certs, s.port));
        return [...new Set(seen)];
      };
      assert.deepEqual(await names(), ["localhost"]);
      await Deno.copyFile(certs.otherCert, chain);
      await Deno.copyFile(certs.otherKey, key);
      const c = await tlsClient(certs, s.port);
      assert.equal(await c.call("refresh_certs\r\n"), "OK\r\n");
      await new Promise((r) => setTimeout(r, 200)); // the other thread's message
      assert.deepEqual(await names(), ["other"]);
      c.close();
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});

Deno.test({
  name: "-t 2 with ssl_session_cache: every reconnect resumes its session; plain still spreads",
  ignore: NO_OPENSSL,
  async fn() {
    const certs = await makeCerts();
    const { s, plain, secure } = await tlsBesidePlain(certs, "-o", "ssl_session_cache", "-t", "2");
    try {
      // TLS 1.2, as memcached's t/ssl_session_resumption.t forces: five reconnects with the first
      // connection's session, each from a new source port the kernel may give either thread; four
      // times (right after the start, the first run can meet thread 0 alone).
      for (let run = 0; run < 4; run++) {
        const out = await new Deno.Command("openssl", {
          args: [
            "s_client",
            "-connect",
            `127.0.0.1:${secure}`,
            "-tls1_2",
            "-reconnect",
            "-CAfile",
            certs.ca,
          ],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout);
        assert.equal(text.match(/^Reused, TLSv1\.2/gm)?.length, 5, `run ${run}:\n${text}`);
      }
      const clients = await clientsOnEveryThread(plain, 8);
      closeAll(clients);
    } finally {
      await s.stop();
      await certs.remove();
    }
  },
});
