/**
 * What every hostile test checks around an attack: the process is alive, every door answers,
 * memory stays under a stated bound during the attack and comes back near its baseline, and the
 * keys stored before it are intact.
 */
import assert from "node:assert/strict";
import { RawClient } from "./client.ts";
import type { Child } from "./server.ts";

/**
 * Prints a process's VmRSS (kB) from /proc, once or every 25 ms until it has gone. A helper process
 * reads it: Deno wants --allow-all for /proc, which the tests do not have (reading it here failed
 * silently, and every RSS bound read 0).
 */
const RSS_READER = `$| = 1;
do {
  open(my $f, "<", "/proc/$ARGV[0]/status") or exit 0;
  while (<$f>) { print "$1\\n" if /^VmRSS:\\s+(\\d+) kB/ }
  close $f;
  select(undef, undef, undef, 0.025) if $ARGV[1];
} while ($ARGV[1]);`;

/** Resident memory of a process in MiB (Linux /proc), or null when it has gone. */
export function rssMiB(pid: number): number | null {
  const out = new Deno.Command("perl", { args: ["-e", RSS_READER, String(pid), "0"] })
    .outputSync();
  const kb = Number.parseInt(new TextDecoder().decode(out.stdout));
  return Number.isNaN(kb) ? null : kb / 1024;
}

/** Samples a process's RSS every 25 ms until stopped; `peak` is the largest seen. */
export class RssWatch {
  peak = 0;
  private readonly reader: Deno.ChildProcess;

  constructor(readonly pid: number) {
    this.sample();
    const reader = new Deno.Command("perl", {
      args: ["-e", RSS_READER, String(pid), "1"],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.reader = reader;
    (async () => {
      let rest = "";
      for await (const chunk of reader.stdout.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop()!;
        for (const line of lines) this.note(Number(line) / 1024);
      }
    })().catch(() => {});
  }

  /** The RSS now (read at once), counted in the peak. */
  sample(): number {
    const now = rssMiB(this.pid);
    if (now === null) throw new Error(`process ${this.pid} has gone: no RSS to read`);
    this.note(now);
    return now;
  }

  stop(): number {
    try {
      this.reader.kill();
    } catch { /* it ended with the process */ }
    return this.sample();
  }

  private note(mib: number): void {
    this.peak = Math.max(this.peak, mib);
  }
}

const SENTINELS = 20;

/** Stores the keys `assertHealthy` later reads back. */
export async function storeSentinels(port: number): Promise<void> {
  const c = await RawClient.connect(port);
  try {
    let batch = "";
    for (let i = 0; i < SENTINELS; i++) {
      batch += `set sentinel${i} ${i} 0 ${8 + String(i).length}\r\nsentinel${i}\r\n`;
    }
    await c.send(batch);
    const stored = await c.readUntil((t) => t.split("STORED\r\n").length > SENTINELS);
    assert.equal(stored, "STORED\r\n".repeat(SENTINELS));
  } finally {
    c.close();
  }
}

/** True while the child process has not exited. */
export async function alive(child: Child): Promise<boolean> {
  const exited = await Promise.race([
    child.process.status.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 10)),
  ]);
  return !exited;
}

/**
 * The process is alive, the memcached door answers and still holds every sentinel key, and the
 * HTTP door (when on) answers /health.
 */
export async function assertHealthy(child: Child, what: string): Promise<void> {
  assert.ok(await alive(child), `${what}: the process exited\n${child.output()}`);
  if (child.port !== 0) {
    const c = await RawClient.connect(child.port);
    try {
      let keys = "";
      for (let i = 0; i < SENTINELS; i++) keys += ` sentinel${i}`;
      const got = await c.call(`get${keys}\r\n`, "END\r\n");
      for (let i = 0; i < SENTINELS; i++) {
        assert.ok(
          got.includes(`VALUE sentinel${i} ${i} ${8 + String(i).length}\r\nsentinel${i}\r\n`),
          `${what}: sentinel${i} lost: ${JSON.stringify(got.slice(0, 200))}`,
        );
      }
    } finally {
      c.close();
    }
  }
  if (child.httpPort !== 0) {
    const res = await fetch(`http://127.0.0.1:${child.httpPort}/health`);
    await res.body?.cancel();
    assert.equal(res.status, 200, `${what}: HTTP /health answered ${res.status}`);
  }
}

/** A memcached `stats` value. */
export async function stat(port: number, name: string): Promise<number> {
  const c = await RawClient.connect(port);
  try {
    const text = await c.call("stats\r\n", "END\r\n");
    const m = new RegExp(`STAT ${name} (\\d+)`).exec(text);
    assert.ok(m !== null, `no stat ${name}`);
    return Number(m[1]);
  } finally {
    c.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether python3 is installed (the SO_LINGER reset client needs it); says so loudly if not. */
export function hasPython(): boolean {
  try {
    new Deno.Command("python3", { args: ["-c", "1"] }).outputSync();
    return true;
  } catch {
    console.warn("\n!!! SKIPPED: python3 is not installed (the reset client needs it) !!!\n");
    return false;
  }
}
