/**
 * `stats detail`: per-prefix counts of gets, hits, sets and deletes, the prefix being a key's bytes
 * before the first delimiter (-D, ':' by default). Keys without the delimiter are not counted, as
 * in memcached. Unlike memcached, the number of prefixes is capped, so that keys made of random
 * prefixes cannot grow the table without bound; once full, new prefixes are counted in `dropped`.
 * The table lives in shared memory under a lock of its own: at -t N every thread counts into it.
 */
import { hashKey } from "../store/hash.ts";
import { lock, unlock } from "./mutex.ts";
import { KeyIndex } from "./key_index.ts";

export interface PrefixCounts {
  get: number;
  hit: number;
  set: number;
  del: number;
}

export const MAX_PREFIXES = 10_000;

// Int32 cells: the lock and the prefixes in the table (slots are taken in order, so the table
// lists them in the order they first came, as memcached does).
const LOCK = 0;
const COUNT = 1;
// Float64 cell: records that found the table full.
const DROPPED = 1;
const HEAD_BYTES = 16;
const GET = 0;
const HIT = 1;
const SET = 2;
const DEL = 3;

export class PrefixStats {
  /** Whether this thread counts (the process's setting, which each thread follows). */
  enabled = false;
  private readonly delimiter: number;
  private readonly cells: Int32Array;
  private readonly meta: Float64Array;
  private readonly counts: Float64Array;
  private readonly prefixes: KeyIndex;

  static readonly BYTES = HEAD_BYTES + MAX_PREFIXES * 32 + KeyIndex.bytes(MAX_PREFIXES);

  constructor(delimiter: string, buffer = new SharedArrayBuffer(PrefixStats.BYTES)) {
    this.delimiter = delimiter.charCodeAt(0);
    this.cells = new Int32Array(buffer, 0, HEAD_BYTES / 4);
    this.meta = new Float64Array(buffer, 0, HEAD_BYTES / 8);
    this.counts = new Float64Array(buffer, HEAD_BYTES, MAX_PREFIXES * 4);
    this.prefixes = new KeyIndex(buffer, HEAD_BYTES + MAX_PREFIXES * 32, MAX_PREFIXES);
  }

  /** Records that found the table full. */
  get dropped(): number {
    return this.locked(() => this.meta[DROPPED]);
  }

  private locked<T>(work: () => T): T {
    lock(this.cells, LOCK);
    try {
      return work();
    } finally {
      unlock(this.cells, LOCK);
    }
  }

  /** Counts one `field` (and a hit) for `key`'s prefix, if it has one. */
  private record(key: Uint8Array, field: number, hit: boolean): void {
    const end = key.indexOf(this.delimiter);
    if (end === -1) return;
    const prefix = key.subarray(0, end);
    const hash = hashKey(prefix);
    const cells = this.cells;
    lock(cells, LOCK);
    let slot = this.prefixes.find(prefix, hash);
    if (slot === -1) {
      slot = cells[COUNT];
      if (slot === MAX_PREFIXES) {
        this.meta[DROPPED]++;
        unlock(cells, LOCK);
        return;
      }
      cells[COUNT] = slot + 1;
      this.counts.fill(0, slot * 4, slot * 4 + 4);
      this.prefixes.put(slot, prefix, hash);
    }
    this.counts[slot * 4 + field]++;
    if (hit) this.counts[slot * 4 + HIT]++;
    unlock(cells, LOCK);
  }

  recordGet(key: Uint8Array, hit: boolean): void {
    this.record(key, GET, hit);
  }

  recordSet(key: Uint8Array): void {
    this.record(key, SET, false);
  }

  recordDelete(key: Uint8Array): void {
    this.record(key, DEL, false);
  }

  entries(): [string, PrefixCounts][] {
    return this.locked(() => {
      const out: [string, PrefixCounts][] = [];
      const c = this.counts;
      for (let i = 0; i < this.cells[COUNT]; i++) {
        const at = i * 4;
        out.push([
          this.prefixes.keyOf(i),
          { get: c[at + GET], hit: c[at + HIT], set: c[at + SET], del: c[at + DEL] },
        ]);
      }
      return out;
    });
  }

  /** `stats detail dump`: memcached's PREFIX lines and END. */
  dump(): string {
    let out = "";
    for (const [prefix, c] of this.entries()) {
      out += `PREFIX ${prefix} get ${c.get} hit ${c.hit} set ${c.set} del ${c.del}\r\n`;
    }
    return out + "END\r\n";
  }

  /** `stats reset` clears the table (collection stays on or off). */
  reset(): void {
    this.locked(() => {
      this.cells[COUNT] = 0;
      this.meta[DROPPED] = 0;
      this.prefixes.clear();
    });
  }
}
