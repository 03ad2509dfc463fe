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
  } catch {
    // Out of descriptors (or no /dev/null): what was opened is the answer.
  } finally {
    for (const f of opened) f.close();
  }
  return opened.length;
}

/** The start-up complaint when -c clients and the reserve do not fit, else null. */
export function checkConnectionLimit(maxConnections: number): string | null {
  const want = maxConnections + RESERVED_DESCRIPTORS;
  const free = freeDescriptors(want);
  if (free >= want) return null;
  return `failed to set rlimit for open files: -c ${maxConnections} needs ${want} free ` +
    `descriptors but only ${free} can be opened (ulimit -n). Raise ulimit -n or request a ` +
    `smaller -c.`;
}
