/**
 * Test certificates, made at test time with `openssl` (EC P-256, 30 days) in a temporary
 * directory: a CA, two server certificates it signed (`server` for localhost and 127.0.0.1,
 * `other` for the refresh tests), a client certificate it signed, and a self-signed `rogue`
 * client certificate it did not. No key is committed.
 */
import tls from "node:tls";
import { RawClient } from "./client.ts";
import { missing } from "./server.ts";

export const NO_OPENSSL = missing("openssl", "openssl");

export interface TestCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  otherCert: string;
  otherKey: string;
  clientCert: string;
  clientKey: string;
  rogueCert: string;
  rogueKey: string;
  /** The CA's PEM text, for clients. */
  caPem: string;
  remove(): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function signed(dir: string, name: string, cn: string, ext: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
  await openssl(dir, ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", cn]);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "30",
    "-out",
    `${name}.crt`,
    "-extfile",
    `${name}.ext`,
  ]);
}

export async function makeCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "tls-test-" });
  const x509 = ["req", "-x509", ...EC, "-days", "30"];
  await openssl(dir, [...x509, "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=Test CA"]);
  const server = "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" +
    "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  await signed(dir, "server", "/CN=localhost", server);
  await signed(dir, "other", "/CN=other", server);
  await signed(
    dir,
    "client",
    "/CN=client",
    "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
  );
  await openssl(dir, [
    ...x509,
    "-keyout",
    "rogue.key",
    "-out",
    "rogue.crt",
    "-subj",
    "/CN=rogue",
    "-addext",
    "extendedKeyUsage=clientAuth",
  ]);
  const path = (f: string) => `${dir}/${f}`;
  return {
    dir,
    ca: path("ca.crt"),
    serverCert: path("server.crt"),
    serverKey: path("server.key"),
    otherCert: path("other.crt"),
    otherKey: path("other.key"),
    clientCert: path("client.crt"),
    clientKey: path("client.key"),
    rogueCert: path("rogue.crt"),
    rogueKey: path("rogue.key"),
    caPem: await Deno.readTextFile(path("ca.crt")),
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The -Z arguments for the server certificate. */
export function tlsArgs(c: TestCerts, ...more: string[]): string[] {
  return ["-Z", "-o", `ssl_chain_cert=${c.serverCert},ssl_key=${c.serverKey}`, ...more];
}

/** A TLS client trusting the test CA, with a client certificate when `as` names one. */
export async function tlsClient(
  c: TestCerts,
  port: number,
  as?: "client" | "rogue",
): Promise<RawClient> {
  const identity = as === undefined ? {} : {
    cert: await Deno.readTextFile(as === "client" ? c.clientCert : c.rogueCert),
    key: await Deno.readTextFile(as === "client" ? c.clientKey : c.rogueKey),
  };
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [c.caPem],
    ...identity,
  });
  await conn.handshake();
  return RawClient.wrap(conn);
}

/**
 * Whether a TLS client gets to talk: "ok" when `version` is answered, else the error (a refused
 * client certificate shows only once the server closes, TLS 1.3 finishing on the client first).
 */
export async function tryVersion(c: TestCerts, port: number, as?: "client" | "rogue") {
  try {
    const client = await tlsClient(c, port, as);
    try {
      const answer = await client.call("version\r\n");
      return answer.startsWith("VERSION ") ? "ok" : `answered ${JSON.stringify(answer)}`;
    } finally {
      client.close();
    }
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  }
}

/** The common name of the certificate the server at `port` shows a new connection. */
export function peerName(c: TestCerts, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: "127.0.0.1", port, ca: c.caPem, checkServerIdentity: () => undefined },
      () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.end();
      },
    );
    socket.on("error", reject);
  });
}
