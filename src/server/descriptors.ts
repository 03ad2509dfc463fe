/**
 * memcached raises its descriptor limit to -c at start and refuses to start when it cannot. This
 * process can neither raise the limit nor read it (/proc/self needs --allow-all), so it checks
 * the same thing directly: can it open -c descriptors and keep a reserve for itself?
 */

import { RESERVED_DESCRIPTORS } from "../limits.ts";

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

/** The start-up complaint when -c clients and the reserve do not fit, else null. */
export function checkConnectionLimit(maxConnections: number): string | null {
  const want = maxConnections + RESERVED_DESCRIPTORS;
  let free: number;
  try {
    free = freeDescriptors(want);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    return `cannot count free descriptors for -c: ${(err as Error).message} (the server needs ` +
      `--allow-net --allow-read --allow-write --allow-env, or start it with deno task start)`;
  }
  if (free >= want) return null;
  return `failed to set rlimit for open files: -c ${maxConnections} needs ${want} free ` +
    `descriptors but only ${free} can be opened (ulimit -n). Raise ulimit -n or request a ` +
    `smaller -c.`;
}
