/** The TLS lines of `stats` and `stats settings`, as memcached 1.6.18 prints them. */
import type { Config } from "./config.ts";
import { OPENSSL_VERIFY_FLAGS } from "./config_tls.ts";
import type { ServerContext } from "./context.ts";
import type { Counters } from "./stats.ts";

/** report.ts's Stat, restated: importing it would make a cycle. */
type Stat = [string, number | string];

/**
 * After log_watchers, with -Z only; ssl_new_sessions only with ssl_session_cache. `c`: the
 * counters summed over the threads.
 */
export function tlsStats(ctx: ServerContext, c: Counters): Stat[] {
  const { config, store } = ctx;
  if (!config.tls.enabled) return [];
  return [
    ...(config.tls.sessionCache ? [["ssl_new_sessions", c.ssl_new_sessions] as Stat] : []),
    ["ssl_handshake_errors", c.ssl_handshake_errors],
    ["time_since_server_cert_refresh", store.clock.now - (ctx.tls?.lastRefresh ?? 0)],
  ];
}

/** Always printed, as a memcached built with TLS prints them (unset paths: "(null)", "NULL"). */
export function tlsSettings(config: Config): Stat[] {
  const t = config.tls;
  return [
    ["ssl_enabled", t.enabled ? "yes" : "no"],
    ["ssl_chain_cert", t.chainCert ?? "(null)"],
    ["ssl_key", t.key ?? "(null)"],
    ["ssl_verify_mode", OPENSSL_VERIFY_FLAGS[t.verifyMode]],
    ["ssl_keyformat", 1],
    ["ssl_ciphers", "NULL"],
    ["ssl_ca_cert", t.caCert ?? "NULL"],
    ["ssl_wbuf_size", t.wbufSize],
    ["ssl_session_cache", t.sessionCache ? "yes" : "no"],
    ["ssl_kernel_tls", "no"],
    ["ssl_min_version", t.minVersion === "TLSv1.2" ? "tlsv1.2" : "tlsv1.3"],
  ];
}
