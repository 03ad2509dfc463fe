/**
 * The settings commands change while the server runs (`verbosity`, `lru_crawler enable|disable`,
 * `stats detail on|off`, `stats sizes_enable`), kept in shared memory so that at -t N a command
 * on one thread sets them for the process, as at -t 1. Whether a crawl is running is here too: a
 * second `lru_crawler crawl` is BUSY whichever thread it comes to.
 */
import type { Config } from "../config.ts";

const VERBOSITY = 0;
const CRAWLER = 1;
const CRAWLING = 2;
const DETAIL = 3;
/** BigInt64 cell: the CAS from which `stats sizes` counts items, or -1 while it is off. */
const SIZES_FROM = 2;

export class RuntimeSettings {
  static readonly BYTES = 24;
  private readonly cells: Int32Array;
  private readonly wide: BigInt64Array;

  /** `creator`: the thread that made the buffer sets the starting values from `config`. */
  constructor(buffer: SharedArrayBuffer, creator: boolean, config: Config) {
    this.cells = new Int32Array(buffer, 0, 4);
    this.wide = new BigInt64Array(buffer, 0, 3);
    if (!creator) return;
    this.verbosity = config.verbosity;
    this.crawlerEnabled = config.lruCrawler;
    Atomics.store(this.wide, SIZES_FROM, -1n);
  }

  get verbosity(): number {
    return Atomics.load(this.cells, VERBOSITY);
  }
  set verbosity(level: number) {
    Atomics.store(this.cells, VERBOSITY, level);
  }

  get crawlerEnabled(): boolean {
    return Atomics.load(this.cells, CRAWLER) === 1;
  }
  set crawlerEnabled(on: boolean) {
    Atomics.store(this.cells, CRAWLER, on ? 1 : 0);
  }

  /** `lru_crawler enable`: false when it was enabled already. */
  enableCrawler(): boolean {
    return Atomics.compareExchange(this.cells, CRAWLER, 0, 1) === 0;
  }

  /** Marks a crawl as running: false when one is already. */
  startCrawl(): boolean {
    return Atomics.compareExchange(this.cells, CRAWLING, 0, 1) === 0;
  }
  endCrawl(): void {
    Atomics.store(this.cells, CRAWLING, 0);
  }

  get detail(): boolean {
    return Atomics.load(this.cells, DETAIL) === 1;
  }
  set detail(on: boolean) {
    Atomics.store(this.cells, DETAIL, on ? 1 : 0);
  }

  get sizesFromCas(): bigint | null {
    const from = Atomics.load(this.wide, SIZES_FROM);
    return from < 0n ? null : from;
  }
  /** `stats sizes_enable`: counts from `cas` on, unless it is on already. */
  enableSizes(cas: bigint): void {
    Atomics.compareExchange(this.wide, SIZES_FROM, -1n, cas);
  }
  disableSizes(): void {
    Atomics.store(this.wide, SIZES_FROM, -1n);
  }
}
