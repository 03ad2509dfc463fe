/** Starts the real server (main.ts) or the real memcached as child processes on free ports. */
import dgram from "node:dgram";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** The same permissions as `deno task start`, so a missing one fails in tests too. */
export const ENV_PERMISSION =
  "--allow-env=MEMCACHED_HTTP_TOKEN,MEMCACHED_SASL_PWDB,MEMCACHED_PORT_FILENAME";
/**
 * What `deno task start` gives V8 and Deno besides permissions: size-optimized heap growth, and no
 * code cache (its SQLite cache and mapped file stay out of RSS): 138 -> 130 MiB after a -m 64
 * trace replay. A smaller young generation (--max-semi-space-size=1) saved 3 MiB more but cost
 * the HTTP door 5-10% of its requests a second. deno.json's start task has the same flags.
 */
export const RUN_FLAGS = [
  "--no-code-cache",
  // -t N listens with SO_REUSEPORT, still an unstable Deno API.
  "--unstable-net",
  "--v8-flags=--optimize-for-size",
];
/** `deno` arguments that run the server with the same flags and permissions as `deno task start`. */
export const RUN_MAIN = [
  "run",
  ...RUN_FLAGS,
  "--allow-net",
  "--allow-read",
  "--allow-write",
  ENV_PERMISSION,
  MAIN,
];

export interface Child {
  port: number;
  httpPort: number;
  process: Deno.ChildProcess;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Waits until the output matches `pattern` (the start-up line trails the listeners). */
  waitForOutput(pattern: RegExp, ms?: number): Promise<string>;
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

const handedOut = new Set<number>();

/**
 * A TCP port that was free a moment ago and that this process has not handed out before: the
 * kernel may offer a port again as soon as it is closed, so two calls in a row could otherwise
 * give one server the same port for both doors.
 */
export function freePort(): number {
  for (;;) {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

async function waitForPort(port: number, child: Deno.ChildProcess, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  child.status.then(() => (exited = true));
  while (Date.now() < deadline && !exited) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listened on port ${port}`);
}

function spawn(cmd: string, args: string[], port: number, httpPort: number): Promise<Child> {
  const process = new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) text += decoder.decode(chunk);
  };
  const pumps = Promise.all([pump(process.stdout), pump(process.stderr)]);
  const child: Child = {
    port,
    httpPort,
    process,
    output: () => text,
    async waitForOutput(pattern: RegExp, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!pattern.test(text) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return text;
    },
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        process.kill(signal);
      } catch { /* already gone */ }
      const status = await process.status;
      await pumps;
      return status;
    },
  };
  // Every door the server opens: memcached's listener is bound while the HTTP app is still being
  // built, so a client that saw memcached answer could still find the HTTP port closed.
  const ready = Promise.all(
    [port, httpPort].filter((p) => p > 0).map((p) => waitForPort(p, process)),
  );
  return ready.then(() => child, async (err) => {
    await child.stop("SIGKILL");
    throw new Error(`${err.message}\n${text}`);
  });
}

/**
 * TEST_THREADS=N runs every server a test starts with -t N (unless the test chooses -t):
 * `deno task test` runs the door and persistence suites so a second time.
 */
function threadsUnderTest(args: string[]): string[] {
  const threads = Deno.env.get("TEST_THREADS");
  if (threads === undefined || args.includes("-t")) return [];
  return ["-t", threads];
}

/**
 * Our server, on free ports (memcached and HTTP) unless the args choose them; with `nofile`, under
 * that `ulimit -n` (set by a shell that then execs the runtime).
 */
export async function startOurs(args: string[] = [], nofile?: number): Promise<Child> {
  // A port free a moment ago can be taken meanwhile (another process, or an outgoing connection's
  // source port): pick fresh ones then, where the test did not choose them.
  const choosesPorts = args.includes("-p") || args.includes("--http-port");
  for (let attempt = 1;; attempt++) {
    try {
      return await startOursOnce(args, nofile);
    } catch (err) {
      const taken = /Address already in use/.test((err as Error).message);
      if (!taken || choosesPorts || attempt === 3) throw err;
    }
  }
}

function startOursOnce(args: string[], nofile?: number): Promise<Child> {
  const port = args.includes("-p") ? Number(args[args.indexOf("-p") + 1]) : freePort();
  const httpPort = args.includes("--http-port")
    ? Number(args[args.indexOf("--http-port") + 1])
    : freePort();
  const full = [
    ...RUN_MAIN,
    ...(args.includes("-p") ? [] : ["-p", String(port)]),
    ...(args.includes("--http-port") ? [] : ["--http-port", String(httpPort)]),
    ...threadsUnderTest(args),
    ...args,
  ];
  if (nofile === undefined) return spawn(Deno.execPath(), full, port, httpPort);
  const limited = [`-c`, `ulimit -n ${nofile} && exec "$0" "$@"`, Deno.execPath(), ...full];
  return spawn("sh", limited, port, httpPort);
}

/** A UDP port that was free a moment ago. */
export function freeUdpPort(): Promise<number> {
  const probe = dgram.createSocket("udp4");
  return new Promise((resolve) =>
    probe.bind(0, "127.0.0.1", () => {
      const port = probe.address().port;
      probe.close();
      resolve(port);
    })
  );
}

/**
 * Runs `program args` with MEMCACHED_PORT_FILENAME set until it has written the file (flags the
 * start helpers cannot wait on, such as -p -1), runs `meanwhile` with what it says, stops it, and
 * returns what the file says ("" when it wrote none within 5 s).
 */
export async function readPortFile(
  program: string,
  args: string[],
  meanwhile?: (file: string) => Promise<void>,
): Promise<string> {
  return (await portFileOf(program, args, meanwhile)) ?? "";
}

/** As readPortFile, but null when no file was written (an empty file is ""). */
export async function portFileOf(
  program: string,
  args: string[],
  meanwhile?: (file: string) => Promise<void>,
): Promise<string | null> {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/ports`;
  const child = new Deno.Command(program, {
    args,
    env: { MEMCACHED_PORT_FILENAME: file },
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Both servers write the file whole under another name and rename it.
  let text: string | null = null;
  for (let i = 0; i < 100 && text === null; i++) {
    try {
      text = await Deno.readTextFile(file);
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    if (text !== null) await meanwhile?.(text);
  } finally {
    try {
      child.kill("SIGTERM");
    } catch { /* it exited (a refused flag): the missing file says so */ }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
  return text;
}

/** Path of a program on PATH, or null. */
export function which(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const path = `${dir}/${name}`;
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  return null;
}

/**
 * True when `program` is not installed, said loudly once: tests that need it pass
 * `{ ignore: missing(...) }`, so Deno's summary counts them as ignored, never as passed.
 */
export function missing(program: string, debianPackage: string): boolean {
  if (which(program) !== null) return false;
  console.warn(`!!! IGNORED: ${program} is not installed (apt-get install ${debianPackage}) !!!`);
  return true;
}

export const NO_MEMCACHED = missing("memcached", "memcached");

/** The real memcached on a free port (tests that call it are ignored without it). */
export async function startMemcached(args: string[] = []): Promise<Child> {
  const bin = which("memcached");
  if (bin === null) throw new Error("memcached is not installed");
  const port = freePort();
  const user = Deno.uid() === 0 ? ["-u", "root"] : [];
  return await spawn(
    bin,
    ["-p", String(port), "-U", "0", "-l", "127.0.0.1", ...user, ...args],
    port,
    0,
  );
}

/**
 * Runs main.ts to its end (for flags that make it exit): its exit code and everything it printed.
 * A server that starts instead of exiting is killed after 15 s (exit code 143), failing the test.
 */
export async function runMain(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...RUN_MAIN, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    signal: AbortSignal.timeout(15_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, text: dec.decode(out.stdout) + dec.decode(out.stderr) };
}
