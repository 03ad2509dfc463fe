/** A raw socket client for byte-exact protocol tests. */
export class RawClient {
  private buf = new Uint8Array(0);
  private constructor(readonly conn: Deno.Conn) {}

  static async connect(port: number, hostname = "127.0.0.1"): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname, port }));
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
    while (!done(text(this.buf))) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      const chunk = new Uint8Array(65536);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.conn.read(chunk),
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), left))),
      ]);
      clearTimeout(timer);
      if (n === "timeout" || n === null) break;
      const next = new Uint8Array(this.buf.length + n);
      next.set(this.buf);
      next.set(chunk.subarray(0, n), this.buf.length);
      this.buf = next;
    }
    const all = text(this.buf);
    this.buf = new Uint8Array(0);
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
    const chunk = new Uint8Array(1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const n = await Promise.race([
        this.conn.read(chunk),
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), timeoutMs))),
      ]);
      return n === null;
    } catch {
      return true;
    } finally {
      clearTimeout(timer);
    }
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
