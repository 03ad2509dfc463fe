/**
 * Descriptors for clients. memcached sets RLIMIT_NOFILE to -c at start. Deno already raises its
 * soft limit to the hard one when it starts, and no process may go past the hard limit without
 * root, so setrlimit through FFI (and --allow-ffi, which is as good as --allow-all) would add
 * nothing. Instead the server counts the descriptors it can open and, when -c and the HTTP door's
 * limit do not fit beside its reserve, serves as many clients as fit, says so in one line, and
 * reports the lowered limits in `stats settings`.
 */
import type { Config } from "../config.ts";
import type { ServerContext } from "../context.ts";
import { RESERVED_DESCRIPTORS } from "../limits.ts";
import { log } from "../log.ts";

/** Not one client fits beside the reserve (start-up exits 71, as memcached's failed setrlimit). */
export class DescriptorError extends Error {}

/** How many more descriptors this process can open, counting up to `want` (then closed again). */
export function freeDescriptors(want: number): number {
  const opened: Deno.FsFile[] = [];
  try {
    while (opened.length < want) opened.push(Deno.openSync("/dev/null"));
  } catch (err) {
    // Without --allow-read no descriptor can be counted: say so rather than "only 0".
    if (err instanceof Deno.errors.NotCapable) throw err;
    // Out of descriptors (or no /dev/null): what was opened is the answer.
  } finally {
    for (const f of opened) f.close();
  }
  return opened.length;
}

export type Budget =
  | { config: Config; warning: string | null }
  | { error: string };

function uncountable(err: Error): string {
  return `cannot count free descriptors for -c: ${err.message} (the server needs --allow-net ` +
    `--allow-read --allow-write --allow-env, or start it with deno task start)`;
}

/**
 * Why the descriptors could not be counted (no read permission), or null: asked before any door
 * opens, so that a server started without permissions names what it needs first.
 */
export function countingRefused(): string | null {
  try {
    freeDescriptors(1);
    return null;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    return uncountable(err);
  }
}

/**
 * The connection limits the descriptors allow: -c and --http-conn-limit as asked when they fit
 * beside the reserve; else each door gets at most what is free less the reserve, shared by both
 * doors (`clientDescriptors`). An error when not even one client fits.
 */
export function descriptorBudget(config: Config): Budget {
  const http = config.httpPort === 0 ? 0 : config.httpConnLimit;
  const want = config.maxConnections + http + RESERVED_DESCRIPTORS;
  let free: number;
  try {
    free = freeDescriptors(want);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    return { error: uncountable(err) };
  }
  if (free >= want) return { config, warning: null };
  const clients = free - RESERVED_DESCRIPTORS;
  if (clients < 1) {
    return {
      error: `failed to set rlimit for open files: only ${free} descriptors can be opened ` +
        `(ulimit -n) and the server keeps ${RESERVED_DESCRIPTORS} for itself: no client fits. ` +
        `Raise ulimit -n.`,
    };
  }
  const maxConnections = Math.min(config.maxConnections, clients);
  const httpConnLimit = Math.min(config.httpConnLimit, clients);
  const lowered = [
    maxConnections < config.maxConnections
      ? `-c ${config.maxConnections} to ${maxConnections}`
      : "",
    http > 0 && httpConnLimit < http ? `--http-conn-limit ${http} to ${httpConnLimit}` : "",
  ].filter((s) => s !== "").join(" and ");
  const warning = `only ${free} descriptors can be opened (the hard ulimit -n): ${clients} ` +
    `clients fit at once${http > 0 ? ", memcached and HTTP together" : ""}` +
    (lowered === "" ? "" : `; lowering ${lowered}`) +
    ` (raise ulimit -n, or LimitNOFILE= under systemd, to serve more)`;
  return {
    config: { ...config, maxConnections, httpConnLimit, clientDescriptors: clients },
    warning,
  };
}

/**
 * Fits the connection limits of a started server to its descriptors: lowers -c, the HTTP limit
 * and the client budget in place (the listeners read them at each accept) and says so, or throws
 * DescriptorError when no client fits.
 */
export function fitDescriptors(ctx: ServerContext): void {
  const budget = descriptorBudget(ctx.config);
  if ("error" in budget) throw new DescriptorError(budget.error);
  if (budget.warning === null) return;
  const { maxConnections, httpConnLimit, clientDescriptors } = budget.config;
  Object.assign(ctx.config, { maxConnections, httpConnLimit, clientDescriptors });
  ctx.limits.maxClients = clientDescriptors;
  log.warn(budget.warning);
}

/**
 * One descriptor held back on a listener's behalf: when an accept fails for want of descriptors,
 * it is given up for the waiting client, which can then be told why it is refused (memcached's
 * `ERROR Too many open connections`, HTTP's 503) instead of waiting in the backlog.
 */
export class SpareDescriptor {
  private file: Deno.FsFile | null = null;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.take();
  }

  /** Closes the spare descriptor; false when there was none to give. */
  give(): boolean {
    if (this.file === null) return false;
    this.file.close();
    this.file = null;
    return true;
  }

  /** Opens the spare again, retrying until a descriptor is free (or `close`). */
  take(): void {
    if (this.file !== null || this.retry !== undefined) return;
    try {
      this.file = Deno.openSync("/dev/null");
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable) return; // no --allow-read: no spare
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.take();
      }, 50);
      Deno.unrefTimer(this.retry);
    }
  }

  close(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
    this.give();
  }
}

/** True for an accept that failed because the process (or system) has no descriptor left. */
export function outOfDescriptors(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === "EMFILE" || code === "ENFILE";
}
