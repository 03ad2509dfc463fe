/** A raw socket client for byte-exact protocol tests. */
export class RawClient {
  /** Received and not yet returned, one char per byte; appended to, never re-decoded. */
  private received = "";
  private pending: Promise<Uint8Array | null> | null = null;
  private constructor(readonly conn: Deno.Conn) {}

  static async connect(port: number, hostname = "127.0.0.1"): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname, port }));
  }

  /** Over a connection made elsewhere (a TLS one: tests/helpers/certs.ts). */
  static wrap(conn: Deno.Conn): RawClient {
    return new RawClient(conn);
  }

  static async connectUnix(path: string): Promise<RawClient> {
    return new RawClient(await Deno.connect({ path, transport: "unix" }));
  }

  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? latin1(data) : data;
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Reads until `done(received)` says the answer is complete, or the timeout passes. */
  async readUntil(done: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.received)) {
      const got = await this.nextChunk(deadline - Date.now());
      if (got === "timeout" || got === null) break;
      this.received += text(got);
    }
    const all = this.received;
    this.received = "";
    return all;
  }

  /** Reads whatever arrives within `ms` (for answers whose end cannot be recognised). */
  readFor(ms: number): Promise<string> {
    return this.readUntil(() => false, ms);
  }

  /** Sends and reads until the reply ends with `terminator` (default CRLF). */
  async call(data: string, terminator = "\r\n"): Promise<string> {
    await this.send(data);
    return await this.readUntil((t) => t.endsWith(terminator));
  }

  /** True when the server has closed the connection (reads EOF within the timeout). */
  async closedByPeer(timeoutMs = 2000): Promise<boolean> {
    try {
      const got = await this.nextChunk(timeoutMs);
      if (got instanceof Uint8Array) this.received += text(got);
      return got === null;
    } catch {
      return true;
    }
  }

  /**
   * The next bytes (null at the end), or "timeout". A read the timeout cut short stays pending
   * for the next call, so the bytes it brings are not lost.
   */
  private async nextChunk(ms: number): Promise<Uint8Array | null | "timeout"> {
    if (ms <= 0) return "timeout";
    this.pending ??= (async () => {
      const chunk = new Uint8Array(65536);
      const n = await this.conn.read(chunk);
      return n === null ? null : chunk.subarray(0, n);
    })();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const got = await Promise.race([
      this.pending,
      new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), ms))),
    ]).finally(() => clearTimeout(timer));
    if (got !== "timeout") this.pending = null;
    return got;
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

export function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function text(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode.apply(null, b.subarray(i, i + 8192) as unknown as number[]);
  }
  return s;
}
