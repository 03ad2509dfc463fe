/**
 * Reads and checks the certificate chain, key and CA files, as memcached's
 * load_server_certificates does, with its message prefixes. Deno's node:tls checks nothing until
 * a client connects, so everything that can fail is checked here, before a context is built.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { TlsSetupError } from "./setup_error.ts";

/** PEM text, each holding only the blocks the TLS layer takes. */
export interface TlsMaterial {
  cert: string;
  key: string;
  ca: string | null;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;
const KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);

function pemBlocks(text: string, wanted: (label: string) => boolean): string[] {
  return [...text.matchAll(BLOCK)].filter((m) => wanted(m[1])).map((m) => m[0]);
}

function read(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (err) {
    const reason = (err as Error).message.replace(/\s*\(os error \d+\).*$/, "");
    throw new TlsSetupError(`Error loading the ${what}: ${path} : ${reason}`);
  }
}

/** Certificates of a PEM file, each parsed; none is an error. */
function certificates(path: string, what: string): { pem: string[]; parsed: X509Certificate[] } {
  const pem = pemBlocks(read(path, what), (label) => label === "CERTIFICATE");
  if (pem.length === 0) {
    throw new TlsSetupError(`Error loading the ${what}: ${path} : no PEM certificate in it`);
  }
  const parsed = pem.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (err) {
      throw new TlsSetupError(
        `Error loading the ${what}: ${path} : certificate ${i + 1} does not parse ` +
          `(${(err as Error).message})`,
      );
    }
  });
  return { pem, parsed };
}

/**
 * The chain (its first certificate is the server's), the key (from `keyPath`, else from the chain
 * file) and the CA list, checked; throws TlsSetupError.
 */
export function loadMaterial(
  chainPath: string,
  keyPath: string | null,
  caPath: string | null,
): TlsMaterial {
  const chain = certificates(chainPath, "certificate chain");
  const where = keyPath ?? chainPath;
  const keys = pemBlocks(read(where, "key"), (label) => KEY_LABELS.has(label));
  if (keys.length === 0) {
    throw new TlsSetupError(
      `Error loading the key: ${where} : no unencrypted PEM private key in it`,
    );
  }
  const key = privateKey(keys[0], where);
  if (!chain.parsed[0].checkPrivateKey(key)) {
    throw new TlsSetupError(
      "Error validating the certificate: the key does not match the certificate",
    );
  }
  const ca = caPath === null ? null : certificates(caPath, "CA certificate").pem.join("\n");
  const pkcs8 = key.export({ type: "pkcs8", format: "pem" }) as string;
  return { cert: chain.pem.join("\n"), key: pkcs8, ca };
}

/**
 * The key of a PEM block. OpenSSL (so memcached) also reads a PKCS#8 body under a PKCS#1 or SEC1
 * label, as Go's test certificates have it (gomemcache's TestTLS); node:crypto only under its
 * own label, so that is tried second. The TLS layer then gets it as PKCS#8, whatever it was.
 */
function privateKey(block: string, where: string): KeyObject {
  try {
    return createPrivateKey(block);
  } catch (err) {
    try {
      return createPrivateKey(block.replace(/(RSA|EC) PRIVATE KEY-----/g, "PRIVATE KEY-----"));
    } catch {
      throw new TlsSetupError(`Error loading the key: ${where} : ${(err as Error).message}`);
    }
  }
}
