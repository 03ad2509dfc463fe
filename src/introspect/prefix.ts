/**
 * `stats detail`: per-prefix counts of gets, hits, sets and deletes, the prefix being a key's bytes
 * before the first delimiter (-D, ':' by default). Keys without the delimiter are not counted, as
 * in memcached. Unlike memcached, the number of prefixes is capped, so that keys made of random
 * prefixes cannot grow the table without bound; once full, new prefixes are counted in `dropped`.
 */
import { latin1 } from "./items.ts";

export interface PrefixCounts {
  get: number;
  hit: number;
  set: number;
  del: number;
}

export const MAX_PREFIXES = 10_000;

export class PrefixStats {
  enabled = false;
  /** Records that found the table full. */
  dropped = 0;
  private readonly table = new Map<string, PrefixCounts>();
  private readonly delimiter: number;

  constructor(delimiter: string) {
    this.delimiter = delimiter.charCodeAt(0);
  }

  private counts(key: Uint8Array): PrefixCounts | null {
    const end = key.indexOf(this.delimiter);
    if (end === -1) return null;
    const prefix = latin1(key.subarray(0, end));
    let c = this.table.get(prefix);
    if (c === undefined) {
      if (this.table.size >= MAX_PREFIXES) {
        this.dropped++;
        return null;
      }
      c = { get: 0, hit: 0, set: 0, del: 0 };
      this.table.set(prefix, c);
    }
    return c;
  }

  recordGet(key: Uint8Array, hit: boolean): void {
    const c = this.counts(key);
    if (c === null) return;
    c.get++;
    if (hit) c.hit++;
  }

  recordSet(key: Uint8Array): void {
    const c = this.counts(key);
    if (c !== null) c.set++;
  }

  recordDelete(key: Uint8Array): void {
    const c = this.counts(key);
    if (c !== null) c.del++;
  }

  entries(): [string, PrefixCounts][] {
    return [...this.table];
  }

  /** `stats detail dump`: memcached's PREFIX lines and END. */
  dump(): string {
    let out = "";
    for (const [prefix, c] of this.table) {
      out += `PREFIX ${prefix} get ${c.get} hit ${c.hit} set ${c.set} del ${c.del}\r\n`;
    }
    return out + "END\r\n";
  }

  /** `stats reset` clears the table (collection stays on or off). */
  reset(): void {
    this.table.clear();
    this.dropped = 0;
  }
}
