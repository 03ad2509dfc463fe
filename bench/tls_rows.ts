/**
 * The TLS rows: the same TLS load client (tls_load.ts, 9:1 get/set, 32 connections) against this
 * server (-t 1 and -t 2) and memcached -Z (its default 4 threads) in alternating rounds, and wrk on `GET /keys/{key}` over HTTPS against
 * the plain HTTP door of a second server of ours (nginx's memcached module is not installed here).
 * Certificates are made by openssl for the run.
 */
import { makeCerts, NO_OPENSSL, tlsArgs } from "../tests/helpers/certs.ts";
import { setOne } from "./load.ts";
import { type Child, run, startMemcached, startOurs } from "./procs.ts";

/** run.ts's row() and rotate() (types only: run.ts imports this module). */
type RowMaker<R> = (...args: Parameters<typeof import("./run.ts").row>) => R;
type Rotate = (rounds: number, targets: (() => Promise<number | null>)[]) => Promise<
  (number | null)[][]
>;

const LOAD = new URL("./tls_load.ts", import.meta.url).pathname;

async function tlsRound(port: number, ca: string, seconds: number): Promise<number | null> {
  const args = ["run", "--allow-net", "--allow-read", LOAD, `--port=${port}`, `--ca=${ca}`];
  const out = await run(Deno.execPath(), [...args, `--seconds=${seconds}`]);
  const m = /TPS: (\d+)/.exec(out);
  if (m === null) console.error(`tls_load printed no TPS:\n${out.slice(-500)}`);
  return m === null ? null : Number(m[1]);
}

export async function tlsRows<R>(
  opts: { rounds: number; seconds: number; memoryMb: string; wrk: string | null },
  row: RowMaker<R>,
  rotate: Rotate,
  wrkRound: (url: string) => Promise<number | null>,
): Promise<R[]> {
  if (NO_OPENSSL) return [];
  const certs = await makeCerts();
  const children: Child[] = [];
  const rows: R[] = [];
  try {
    const args = tlsArgs(certs, "-m", opts.memoryMb);
    const ours = await startOurs(args);
    children.push(ours);
    const two = await startOurs([...args, "-t", "2", "--http-port", "0"]);
    children.push(two);
    const real = await startMemcached(args);
    children.push(real);
    const [o, t, m] = await rotate(opts.rounds, [
      () => tlsRound(ours.port, certs.ca, opts.seconds),
      () => tlsRound(two.port, certs.ca, opts.seconds),
      () => tlsRound(real.port, certs.ca, opts.seconds),
    ]);
    rows.push(row("TLS mixed 9:1 get/set", "ops/s", "memcached -Z", ">= 0.90", o, m));
    rows.push(row("TLS mixed 9:1 get/set, ours -t 2", "ops/s", "memcached -Z", "(stated)", t, m));
    console.error(
      `TLS rounds: ours ${o.join(" ")}; -t 2 ${t.join(" ")}; memcached -Z ${m.join(" ")}`,
    );
    if (opts.wrk !== null) {
      const plain = await startOurs(["-m", opts.memoryMb]);
      children.push(plain);
      await setOne(plain.port, "benchhttp", "h".repeat(100));
      await setOneTls(ours, certs.caPem);
      const [h, p] = await rotate(opts.rounds, [
        () => wrkRound(`https://127.0.0.1:${ours.httpPort}/keys/benchhttp`),
        () => wrkRound(`http://127.0.0.1:${plain.httpPort}/keys/benchhttp`),
      ]);
      rows.push(row("HTTPS GET /keys/{key}", "req/s", "ours, plain HTTP", "(stated)", h, p));
      console.error(`HTTPS rounds: ours ${h.join(" ")}; plain HTTP ${p.join(" ")}`);
    }
  } finally {
    for (const c of children) await c.stop();
    await certs.remove();
  }
  return rows;
}

/** The key the HTTPS rounds read, set over the TLS memcached door. */
async function setOneTls(server: Child, ca: string): Promise<void> {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port: server.port, caCerts: [ca] });
  await conn.write(new TextEncoder().encode(`set benchhttp 0 0 100\r\n${"h".repeat(100)}\r\n`));
  await conn.read(new Uint8Array(64));
  conn.close();
}
