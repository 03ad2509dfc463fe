/**
 * What start-up leaves behind or refuses, as memcached does: listen failures as one line naming
 * the door, the address and the reason (exit 71), the socket path rule, the pid and port files.
 */

/** memcached's exit status when a listener cannot be opened (EX_OSERR). */
export const LISTEN_FAILED = 71;

/** A door that could not be opened. */
export class ListenError extends Error {
  constructor(door: string, address: string, reason: string) {
    super(`failed to listen: ${door} on ${address}: ${reason}`);
  }
}

/** Runs `open`, turning any failure into a ListenError for that door and address. */
export function listenOrExplain<T>(door: string, address: string, open: () => T): T {
  try {
    return open();
  } catch (err) {
    throw explained(door, address, err);
  }
}

/** listenOrExplain for a door that binds asynchronously (UDP through node:dgram). */
export async function bindOrExplain<T>(
  door: string,
  address: string,
  open: () => Promise<T>,
): Promise<T> {
  try {
    return await open();
  } catch (err) {
    throw explained(door, address, err);
  }
}

function explained(door: string, address: string, err: unknown): ListenError {
  if (err instanceof ListenError) return err;
  // Deno appends "(os error 98)" and sometimes the call; the first clause is the reason.
  const reason = (err as Error).message.replace(/\s*\(os error \d+\)$/, "");
  return new ListenError(door, address, reason);
}

/**
 * Clears the way for a unix socket at `path`: a socket left there by an earlier run is removed
 * (as memcached removes it); any other file is refused and left alone.
 */
export function clearStaleSocket(path: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return; // nothing there (or a missing directory, which listening reports)
  }
  if (!info.isSocket) {
    throw new ListenError(
      "memcached unix socket",
      path,
      "a file that is not a socket is there (left alone; remove it or choose another path)",
    );
  }
  Deno.removeSync(path);
}

/** memcached's MEMCACHED_PORT_FILENAME lines, e.g. "TCP INET: 11211" (INET6 for IPv6). */
export function portFileLines(addrs: Deno.NetAddr[]): string {
  return addrs.map((a) =>
    `${a.transport.toUpperCase()} ${a.hostname.includes(":") ? "INET6" : "INET"}: ${a.port}\n`
  ).join("");
}

/** How a listener shares its port with the other threads' (-t N). */
export interface PortSharing {
  /** SO_REUSEPORT, which every thread's listener on a port must ask for. */
  reusePort: boolean;
  /** Thread 0 binds a named port alone first, so that one another process holds is refused. */
  checkFree: boolean;
}

/**
 * SO_REUSEPORT would share a port another process of this user holds: before the threads share a
 * named port, bind it alone once, which fails if it is taken.
 */
export function refuseTakenPort(hostname: string, port: number, share: PortSharing): void {
  if (share.reusePort && share.checkFree && port !== 0) Deno.listen({ hostname, port }).close();
}

/** One -l address; `tls` when -Z is on and the address has no `notls:` prefix. */
export interface ListenAddress {
  hostname: string;
  port: number;
  tls: boolean;
}

/**
 * memcached's -l: addresses separated by commas (repeated -l are joined so), each `host`,
 * `host:port`, `[ipv6]` or `[ipv6]:port`; an unbracketed IPv6 address has no port. Without one,
 * an address takes `port` (-p). With -Z (`tlsOn`), a `notls:` prefix keeps that listener plain.
 */
export function listenAddresses(listen: string, port: number, tlsOn = false): ListenAddress[] {
  const addrs: ListenAddress[] = [];
  for (const item of listen.split(",")) {
    let text = item.trim();
    if (text === "") continue;
    const plain = text.startsWith("notls:");
    if (plain && !tlsOn) {
      throw new ListenError(
        "memcached TCP",
        text,
        "'notls' option is valid only when SSL is enabled",
      );
    }
    if (plain) text = text.slice("notls:".length);
    let hostname = text;
    let portText: string | null = null;
    if (text.startsWith("[")) {
      const close = text.indexOf("]");
      if (close === -1) throw new ListenError("memcached TCP", text, "an IPv6 address lacks its ]");
      hostname = text.slice(1, close);
      if (text[close + 1] === ":") portText = text.slice(close + 2);
    } else {
      const colon = text.indexOf(":");
      if (colon !== -1 && text.indexOf(":", colon + 1) === -1) {
        hostname = text.slice(0, colon);
        portText = text.slice(colon + 1);
      }
    }
    const own = portText === null ? port : Number(portText);
    if (!Number.isInteger(own) || own < 0 || own > 65535) {
      throw new ListenError("memcached TCP", text, "the port is not a number from 0 to 65535");
    }
    addrs.push({ hostname, port: own, tls: tlsOn && !plain });
  }
  return addrs;
}

/** Writes a whole file under a temporary name first, so readers never see half of it. */
export function writeFileAtomically(path: string, text: string): void {
  const temporary = `${path}.lck`;
  Deno.writeTextFileSync(temporary, text);
  Deno.renameSync(temporary, path);
}

/** Removes a file this process wrote, if it is still there. */
export function removeIfThere(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* already gone */ }
}
