/**
 * TLS for both doors, built from the configuration alone, so that every worker can build its
 * own: createTls loads and checks the files (TlsSetupError: exit 64 at start-up), the listen
 * functions open one listener TLS or plain, and refresh() reloads the files for this process's
 * listeners (new connections get the new certificate; open ones keep theirs; a bad file keeps
 * the old one and answers memcached's error).
 */
import tls from "node:tls";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { httpTls } from "../config_tls.ts";
import type { ServerContext, TlsRuntime } from "../context.ts";
import type { ListenAddress } from "../startup.ts";
import { errorResponse } from "./http/response.ts";
import { loadMaterial, type TlsMaterial } from "./tls/material.ts";
import { listenTls, type TlsSettings } from "./tls/listener.ts";
import { type PortSharing, refuseTakenPort } from "../startup.ts";

type Share = PortSharing;

const PLAIN_HTTP_ANSWER = errorResponse(
  400,
  "https_required",
  "this port speaks HTTPS: send the request to https:// instead",
);

/**
 * Handshakes that may run beyond -c, so that a client over the limit reads memcached's "ERROR Too
 * many open connections" over TLS (memcached writes it in clear, which a TLS client cannot read);
 * past them a connection is closed before its handshake.
 */
const REFUSALS = 8;

export class Tls implements TlsRuntime {
  lastRefresh: number;
  /** The memcached door's settings (null without -Z) and the HTTP door's (null without TLS). */
  memcached: TlsSettings | null = null;
  http: TlsSettings | null = null;

  constructor(private readonly config: Config, private readonly clock: Clock) {
    this.lastRefresh = clock.now;
    this.load();
  }

  /** Reads every file anew; throws TlsSetupError and then changes nothing. */
  private load(): void {
    const t = this.config.tls;
    const memcached = t.enabled ? loadMaterial(t.chainCert!, t.key, t.caCert) : null;
    const http = t.httpCert !== null ? loadMaterial(t.httpCert, t.httpKey, t.caCert) : memcached;
    this.memcached = memcached === null ? null : this.settings(memcached);
    this.http = !httpTls(t) || http === null ? null : this.settings(http);
    this.lastRefresh = this.clock.now;
  }

  private settings(m: TlsMaterial): TlsSettings {
    const t = this.config.tls;
    const secureContext = tls.createSecureContext({
      cert: m.cert,
      key: m.key,
      ...(m.ca === null ? {} : { ca: m.ca }),
      minVersion: t.minVersion,
    });
    return {
      secureContext,
      verifyMode: t.verifyMode,
      sessionCache: t.sessionCache,
      handshakeTimeoutMs: t.handshakeTimeoutMs,
      wbufSize: t.wbufSize,
    };
  }

  onRefreshed?: () => void;

  refresh(): string | null {
    const error = this.reload();
    if (error === null) this.onRefreshed?.();
    return error;
  }

  reload(): string | null {
    try {
      this.load();
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }
}

/** This process's TLS, or null when neither door speaks it; throws TlsSetupError. */
export function createTls(config: Config, clock: Clock): Tls | null {
  return config.tls.enabled || httpTls(config.tls) ? new Tls(config, clock) : null;
}

/** One memcached TCP listener: TLS under -Z unless the address said `notls:`, else `plain()`. */
export function listenMemcachedTcp(
  ctx: ServerContext,
  addr: ListenAddress,
  t: Tls | null,
  plain: () => Deno.Listener,
  share: Share,
): Promise<Deno.Listener> {
  if (!addr.tls || t?.memcached == null) return Promise.resolve(plain());
  const { config, store } = ctx;
  refuseTakenPort(addr.hostname, addr.port, share);
  return listenTls({
    hostname: addr.hostname,
    port: addr.port,
    backlog: config.tcpBacklog,
    reusePort: share.reusePort,
    settings: () => t.memcached!,
    counters: store.counters,
    admit: (pending) =>
      store.total("curr_connections") + pending < config.maxConnections + REFUSALS,
    plainAnswer: null,
  }) as unknown as Promise<Deno.Listener>;
}

/** The HTTP door's listener on `port`: HTTPS when -Z or --http-tls-cert asks, else `plain()`. */
export function listenHttp(
  ctx: ServerContext,
  port: number,
  t: Tls | null,
  plain: () => Deno.TcpListener,
  share: Share,
): Promise<Deno.TcpListener> {
  const { config } = ctx;
  if (t?.http == null) return Promise.resolve(plain());
  refuseTakenPort(config.httpHost, port, share);
  return listenTls({
    hostname: config.httpHost,
    port,
    reusePort: share.reusePort,
    settings: () => t.http!,
    counters: ctx.store.counters,
    admit: (pending) => pending < config.httpConnLimit,
    plainAnswer: PLAIN_HTTP_ANSWER,
  }) as unknown as Promise<Deno.TcpListener>;
}
