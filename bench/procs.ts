/** Starting and measuring the processes the benchmark compares. */
import { type Child, freePort, startMemcached, startOurs } from "../tests/helpers/server.ts";

export type { Child };
export { startMemcached, startOurs };

/**
 * Resident set size of a process in bytes (VmRSS). Read through `ps`, since Deno grants reading
 * /proc only with --allow-all.
 */
export async function rssBytes(pid: number): Promise<number> {
  const out = await run("ps", ["-o", "rss=", "-p", String(pid)]);
  const kb = Number(out.trim());
  if (!Number.isFinite(kb) || kb <= 0) throw new Error(`no RSS for ${pid}: ${out}`);
  return kb * 1024;
}

/** A bare Deno.serve baseline for the HTTP door (see bare_http.ts), on a free port. */
export async function startBareHttp(
  mode: "plain" | "contract-headers",
): Promise<{ port: number; stop(): Promise<void> }> {
  const port = freePort();
  const script = new URL("./bare_http.ts", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", script, String(port), mode],
    stdout: "null",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    },
  };
}

/** Runs a program to completion and returns its stdout and stderr together. */
export async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  return dec.decode(out.stdout) + dec.decode(out.stderr);
}
