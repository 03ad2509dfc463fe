/**
 * A TLS listener with Deno.Listener's accept(): node:net accepts, the first bytes are looked at
 * (plain text never reaches the TLS layer), node:tls shakes hands within a bound, and only then is
 * the connection handed out, as a TlsStream. node:tls rather than Deno.listenTls because only it
 * can ask for client certificates and change certificates without rebinding (README: TLS).
 */
import net from "node:net";
import tls from "node:tls";
import { log } from "../../log.ts";
import type { Counters } from "../../stats.ts";
import { TlsStream } from "./stream.ts";

/** What a listener needs to know at each handshake; refresh_certs replaces `secureContext`. */
export interface TlsSettings {
  secureContext: tls.SecureContext;
  verifyMode: 0 | 1 | 2 | 3;
  sessionCache: boolean;
  handshakeTimeoutMs: number;
  wbufSize: number;
}

export interface TlsListenOptions {
  hostname: string;
  port: number;
  backlog?: number;
  reusePort?: boolean;
  /** Read at each handshake, so new connections get what refresh_certs loaded. */
  settings: () => TlsSettings;
  counters: Counters;
  /** Whether another connection may start its handshake, given this listener's pending ones. */
  admit(pending: number): boolean;
  /** Written in clear to a client that speaks plain text (the HTTP door's refusal). */
  plainAnswer: Uint8Array | null;
}

/** A TLS record starts with its type; a ClientHello comes in a handshake record (22). */
const HANDSHAKE_RECORD = 0x16;
/** How long a plain-text client gets to take its refusal before the socket is closed. */
const ANSWER_LINGER_MS = 1000;

export class TlsListener {
  private ready: TlsStream[] = [];
  private waiters: { resolve(c: Deno.Conn): void; reject(e: unknown): void }[] = [];
  private shaking = new Set<net.Socket>();
  private closed = false;

  constructor(
    private readonly server: net.Server,
    readonly addr: Deno.NetAddr,
    private readonly opts: TlsListenOptions,
  ) {
    server.on("connection", (raw: net.Socket) => this.connected(raw));
  }

  accept(): Promise<Deno.Conn> {
    const next = this.ready.shift();
    if (next !== undefined) return Promise.resolve(next as unknown as Deno.Conn);
    if (this.closed) return Promise.reject(new Deno.errors.BadResource("listener closed"));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const raw of this.shaking) raw.destroy();
    for (const conn of this.ready) conn.close();
    this.ready = [];
    for (const w of this.waiters) w.reject(new Deno.errors.BadResource("listener closed"));
    this.waiters = [];
  }

  async *[Symbol.asyncIterator](): AsyncIterableIterator<Deno.Conn> {
    try {
      for (;;) yield await this.accept();
    } catch (err) {
      if (!(err instanceof Deno.errors.BadResource)) throw err;
    }
  }

  ref(): void {
    this.server.ref();
  }

  unref(): void {
    this.server.unref();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private connected(raw: net.Socket): void {
    const { counters } = this.opts;
    if (this.closed || !this.opts.admit(this.shaking.size + this.ready.length)) {
      counters.rejected_connections++;
      raw.destroy();
      return;
    }
    const settings = this.opts.settings();
    const peer = `${raw.remoteAddress}:${raw.remotePort}`;
    this.shaking.add(raw);
    let done = false;
    /** Ends the attempt; with `answer`, written in clear first (destroying would drop it). */
    const failed = (reason: string, answer: Uint8Array | null = null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.shaking.delete(raw);
      counters.ssl_handshake_errors++;
      // Per connection, so only at -v: a scan or a broken client must not flood the log.
      log.debug("TLS handshake with {peer} failed: {reason}", { peer, reason });
      if (answer === null) return raw.destroy();
      raw.end(answer);
      Deno.unrefTimer(setTimeout(() => raw.destroy(), ANSWER_LINGER_MS));
    };
    // From the accept, however slowly the ClientHello drips in.
    const timer = setTimeout(() => failed("not finished in time"), settings.handshakeTimeoutMs);
    raw.on("error", (err) => failed(err.message));
    raw.once("readable", () => {
      const first: Uint8Array | null = raw.read();
      if (first === null) return failed("closed before a ClientHello");
      if (first[0] !== HANDSHAKE_RECORD) {
        return failed("plain text on a TLS port", this.opts.plainAnswer);
      }
      raw.unshift(first);
      const socket = new tls.TLSSocket(raw, {
        isServer: true,
        secureContext: settings.secureContext,
        requestCert: settings.verifyMode !== 0,
        // Modes 2 and 3: no certificate fails the handshake; a bad one is refused below.
        rejectUnauthorized: settings.verifyMode >= 2,
      } as tls.TLSSocketOptions);
      socket.on("error", (err) => failed(err.message));
      socket.once("secure", () => {
        if (done) return socket.destroy();
        const refused = settings.verifyMode !== 0 ? verifyError(socket) : null;
        if (refused !== null) return failed(`client certificate: ${refused}`);
        done = true;
        clearTimeout(timer);
        this.shaking.delete(raw);
        if (settings.sessionCache && !socket.isSessionReused()) counters.ssl_new_sessions++;
        this.handOut(socket, raw, settings.wbufSize);
      });
    });
  }

  private handOut(socket: tls.TLSSocket, raw: net.Socket, wbufSize: number): void {
    const stream = new TlsStream(
      socket,
      netAddr(raw.remoteAddress, raw.remotePort),
      this.addr,
      wbufSize,
    );
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter.resolve(stream as unknown as Deno.Conn);
    else this.ready.push(stream);
  }
}

/**
 * Why a client certificate is refused, or null: node:tls leaves the check of a certificate that
 * was sent (but does not chain to ssl_ca_cert) to the server, as Node's tls.Server does it.
 */
function verifyError(socket: tls.TLSSocket): string | null {
  const handle = (socket as unknown as { ssl?: { verifyError?(): unknown } }).ssl;
  const err = handle?.verifyError?.();
  if (!err) return null;
  return typeof err === "string" ? err : String((err as Error).message ?? err);
}

function netAddr(address: string | undefined, port: number | undefined): Deno.NetAddr {
  const hostname = (address ?? "").replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1");
  return { transport: "tcp", hostname, port: port ?? 0 };
}

/** node's listen errors in the words Deno.listen uses for the same (os) errors. */
const OS_ERRORS: Record<string, string> = {
  EADDRINUSE: "Address already in use",
  EADDRNOTAVAIL: "Cannot assign requested address",
  EACCES: "Permission denied",
};

/** Binds a TLS listener (node:net binds asynchronously; errors reject, for bindOrExplain). */
export function listenTls(opts: TlsListenOptions): Promise<TlsListener> {
  const server = net.createServer({ pauseOnConnect: false });
  return new Promise((resolve, reject) => {
    const failed = (err: Error) =>
      reject(new Error(OS_ERRORS[(err as { code?: string }).code!] ?? err.message));
    server.once("error", failed);
    server.listen(
      {
        host: opts.hostname,
        port: opts.port,
        backlog: opts.backlog,
        reusePort: opts.reusePort,
      } as net.ListenOptions,
      () => {
        server.off("error", failed);
        server.on("error", (err) => log.warn("TLS listener: {err}", { err: String(err) }));
        const a = server.address() as net.AddressInfo;
        resolve(new TlsListener(server, netAddr(a.address, a.port), opts));
      },
    );
  });
}
