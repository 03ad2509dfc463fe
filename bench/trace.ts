/**
 * The trace-replay rows of `deno task bench`: a cache-aside client (get; on a miss, set) replays a
 * seeded synthetic trace against a server, pipelined, and reports what the cache kept.
 *
 * A trace draws keys from a Zipf popularity over a fixed universe, mixed with one-hit wonders
 * (keys asked for once and never again), and gives every key a value size from a size mix. The
 * same seed gives the same requests to both servers.
 */

/** A value size distribution: weighted ranges [min, max] bytes, drawn log-uniformly inside each. */
export interface SizeMix {
  name: string;
  ranges: { weight: number; min: number; max: number }[];
}

/** About half under 400 B, a third up to 4 KB, a tenth up to 64 KB: the mix of the issue. */
export const WEB_MIX: SizeMix = {
  name: "web",
  ranges: [
    { weight: 0.5, min: 20, max: 400 },
    { weight: 0.33, min: 400, max: 4096 },
    { weight: 0.1, min: 4096, max: 65536 },
    { weight: 0.07, min: 1, max: 20 },
  ],
};

/** Log-uniform from 1 B to 500 KB: every memcached slab class is written, so every one evicts. */
export const EVERY_CLASS_MIX: SizeMix = {
  name: "every-class",
  ranges: [{ weight: 1, min: 1, max: 500_000 }],
};

export interface TraceSpec {
  alpha: number;
  mix: SizeMix;
  requests: number;
  /** Distinct popular keys. */
  universe: number;
  /** Share of requests for keys never asked for again. */
  oneHitShare: number;
  seed: number;
}

export interface ReplayResult {
  hitRatio: number;
  items: number;
  bytes: number;
}

/** mulberry32: a small seeded generator, so a trace is the same in every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function zipfCdf(n: number, alpha: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, alpha);
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  return cdf;
}

function pick(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function drawSize(mix: SizeMix, u: number, v: number): number {
  let acc = 0;
  const total = mix.ranges.reduce((s, r) => s + r.weight, 0);
  for (const r of mix.ranges) {
    acc += r.weight / total;
    if (u <= acc || r === mix.ranges[mix.ranges.length - 1]) {
      return Math.round(Math.exp(Math.log(r.min) + v * (Math.log(r.max) - Math.log(r.min))));
    }
  }
  return 1;
}

/** The requests of a trace: key ids (popular keys >= 0, one-hit wonders < 0) and their sizes. */
export function buildTrace(spec: TraceSpec): { keys: Int32Array; sizeOf: (id: number) => number } {
  const rnd = random(spec.seed);
  const cdf = zipfCdf(spec.universe, spec.alpha);
  const keys = new Int32Array(spec.requests);
  let wonders = 0;
  for (let i = 0; i < spec.requests; i++) {
    keys[i] = rnd() < spec.oneHitShare ? -(++wonders) : pick(cdf, rnd());
  }
  const sizes = new Int32Array(spec.universe + wonders + 1);
  for (let i = 0; i < sizes.length; i++) sizes[i] = drawSize(spec.mix, rnd(), rnd());
  return {
    keys,
    sizeOf: (id) => sizes[id >= 0 ? id : spec.universe - id],
  };
}

const enc = new TextEncoder();
const decoder = new TextDecoder();
const CR = 13;

function keyName(id: number): string {
  return id >= 0 ? `t:${id}` : `o:${-id}`;
}

/**
 * Replays a trace as a cache-aside client: each batch of gets is pipelined, then the misses are
 * set with noreply, and the next batch follows. Returns the hit ratio and the server's
 * curr_items and bytes afterwards.
 */
export async function replay(
  port: number,
  trace: ReturnType<typeof buildTrace>,
  batch = 100,
): Promise<ReplayResult> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  const reader = new Replies(conn);
  let hits = 0;
  const { keys, sizeOf } = trace;
  try {
    for (let i = 0; i < keys.length; i += batch) {
      const end = Math.min(keys.length, i + batch);
      let text = "";
      for (let j = i; j < end; j++) text += `get ${keyName(keys[j])}\r\n`;
      await writeAll(conn, enc.encode(text));
      const misses: number[] = [];
      for (let j = i; j < end; j++) {
        if (await reader.getHit()) hits++;
        else misses.push(keys[j]);
      }
      let length = 0;
      const heads = misses.map((id) => {
        const head = enc.encode(`set ${keyName(id)} 0 0 ${sizeOf(id)} noreply\r\n`);
        length += head.length + sizeOf(id) + 2;
        return head;
      });
      const out = new Uint8Array(length);
      let at = 0;
      for (let m = 0; m < misses.length; m++) {
        out.set(heads[m], at);
        at += heads[m].length + sizeOf(misses[m]);
        out[at++] = CR;
        out[at++] = 10;
      }
      await writeAll(conn, out);
    }
    await writeAll(conn, enc.encode("stats\r\n"));
    const stats = await reader.stats();
    return { hitRatio: hits / keys.length, items: stats.curr_items, bytes: stats.bytes };
  } finally {
    conn.close();
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** Reads pipelined text replies from a buffer that grows to the largest reply. */
class Replies {
  private buf = new Uint8Array(1 << 20);
  private start = 0;
  private end = 0;
  constructor(private readonly conn: Deno.Conn) {}

  private async fill(): Promise<void> {
    if (this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
      this.end -= this.start;
      this.start = 0;
    }
    if (this.end === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    const n = await this.conn.read(this.buf.subarray(this.end));
    if (n === null) throw new Error("server closed the connection");
    this.end += n;
  }

  private async line(): Promise<string> {
    for (;;) {
      for (let i = this.start; i + 1 < this.end; i++) {
        if (this.buf[i] === CR && this.buf[i + 1] === 10) {
          const text = decoder.decode(this.buf.subarray(this.start, i));
          this.start = i + 2;
          return text;
        }
      }
      await this.fill();
    }
  }

  private async skip(n: number): Promise<void> {
    while (this.end - this.start < n) await this.fill();
    this.start += n;
  }

  /** One get reply: true on a hit. */
  async getHit(): Promise<boolean> {
    const first = await this.line();
    if (first === "END") return false;
    if (!first.startsWith("VALUE ")) throw new Error(`unexpected reply: ${first}`);
    await this.skip(Number(first.slice(first.lastIndexOf(" ") + 1)) + 2);
    const end = await this.line();
    if (end !== "END") throw new Error(`unexpected reply: ${end}`);
    return true;
  }

  async stats(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (let l = await this.line(); l !== "END"; l = await this.line()) {
      const [, name, value] = l.split(" ");
      out[name] = Number(value);
    }
    return out;
  }
}
