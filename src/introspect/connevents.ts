/** `watch connevents`: memcached's conn_new and conn_close lines. */
import type { ConnectionInfo, ServerContext } from "../context.ts";
import { introspection } from "./introspection.ts";
import { CONNEVENTS } from "./watch.ts";

/** memcached's rip/rport/transport for an address printed as "tcp:1.2.3.4:5" or "unix:/path". */
function endpoint(addr: string): string {
  if (!addr.startsWith("tcp:")) return "rip=unix rport=0 transport=local";
  const colon = addr.lastIndexOf(":");
  const host = addr.slice(4, colon).replace(/^\[(.*)\]$/, "$1");
  return `rip=${host} rport=${addr.slice(colon + 1)} transport=tcp`;
}

export function connectionOpened(ctx: ServerContext, info: ConnectionInfo): void {
  const hub = introspection(ctx).watch;
  // Nothing has taken the store lock yet on this connection: follow other threads' watchers here.
  hub.sync();
  if ((hub.flags & CONNEVENTS) === 0) return;
  hub.emit(CONNEVENTS, `type=conn_new ${endpoint(info.addr)} cfd=${info.id}`);
}

export function connectionClosed(ctx: ServerContext, info: ConnectionInfo): void {
  const hub = introspection(ctx).watch;
  if ((hub.flags & CONNEVENTS) === 0) return;
  const reason = info.closeReason ?? "normal";
  hub.emit(CONNEVENTS, `type=conn_close ${endpoint(info.addr)} reason=${reason} cfd=${info.id}`);
}
