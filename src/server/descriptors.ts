/**
 * The descriptor budget: the soft `ulimit -n` of this process, and the descriptors kept back for
 * the process itself (runtime, listeners, files) as memcached keeps its reserved_fds.
 */

/** Descriptors the runtime and the listeners use besides client connections. */
export const RESERVED_DESCRIPTORS = 64;

/** The soft limit on open files, or null where /proc/self/limits cannot be read. */
export function descriptorLimit(): number | null {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/self/limits");
  } catch {
    return null;
  }
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (m === null || m[1] === "unlimited") return null;
  return Number(m[1]);
}

/**
 * memcached raises its descriptor limit to -c at start and refuses to start when it cannot; this
 * process cannot raise it, so -c must fit under the soft limit as it is. Returns the complaint.
 */
export function checkConnectionLimit(maxConnections: number, limit: number | null): string | null {
  if (limit === null || maxConnections + RESERVED_DESCRIPTORS <= limit) return null;
  return `failed to set rlimit for open files: -c ${maxConnections} needs ` +
    `${maxConnections + RESERVED_DESCRIPTORS} descriptors but ulimit -n is ${limit}. ` +
    `Raise ulimit -n or request a smaller -c.`;
}
