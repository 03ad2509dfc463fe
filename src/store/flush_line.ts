import type { Slots } from "./slots.ts";

/**
 * Which items flush_all has made dead, kept as memcached keeps it (oldest_live, oldest_cas) so
 * that nothing is walked at flush time: items are checked when met, and reclaimed later.
 */
export class FlushLine {
  /** flush_all with a delay: items stored before this unix time die once it has come. 0 = none. */
  deadline = 0;
  /** flush_all now: items stored at or before this unix second are flushed. 0 = none. */
  private upTo = 0;
  /** ... and, with CAS, items whose CAS is below this one (hi, lo words). */
  private casHi = 0;
  private casLo = 0;

  /** flush_all now. `cas` is the next CAS value (0 without CAS: the whole second goes). */
  now(now: number, cas: number): void {
    this.deadline = 0;
    this.upTo = cas === 0 ? now : now - 1;
    this.casLo = cas >>> 0;
    this.casHi = Math.floor(cas / 2 ** 32);
  }

  /**
   * A sweep has passed every slot since flush_all now, reclaiming what it flushed: lookups need not
   * check for it any more. Without CAS, not within the flush's second, which still flushes what
   * it stores.
   */
  swept(now: number): void {
    if (this.casHi !== 0 || this.casLo !== 0 || now > this.upTo) this.upTo = 0;
  }

  /** Whether the item in slot `h` is dead by a flush_all. */
  covers(slots: Slots, h: number, now: number): boolean {
    // Most lookups meet no flush at all: no item metadata is read then.
    if (this.upTo !== 0) {
      if (slots.storedAt[h] <= this.upTo) return true;
      const hi = slots.casHi[h];
      if (hi < this.casHi || (hi === this.casHi && slots.casLo[h] < this.casLo)) return true;
    }
    return this.deadline !== 0 && now >= this.deadline && slots.storedAt[h] < this.deadline;
  }
}
