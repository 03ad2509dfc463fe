import type { SharedMemory } from "./memory.ts";
import type { Slots } from "./slots.ts";

// Shared numbers.
const DEADLINE = 0;
const UP_TO = 1;
const CAS_HI = 2;
const CAS_LO = 3;

/**
 * Which items flush_all has made dead, kept as memcached keeps it (oldest_live, oldest_cas) so
 * that nothing is walked at flush time: items are checked when met, and reclaimed later.
 * - deadline: flush_all with a delay: items stored before this unix time die once it has come.
 * - upTo: flush_all now: items stored at or before this unix second are flushed (0 = none), and,
 *   with CAS, items whose CAS is below casHi:casLo.
 */
export class FlushLine {
  private readonly n: Float64Array;

  constructor(memory: SharedMemory) {
    this.n = memory.scalars("flush", 4);
  }

  /** flush_all with a delay: the unix time it takes effect (0 = none). */
  get deadline(): number {
    return this.n[DEADLINE];
  }
  set deadline(at: number) {
    this.n[DEADLINE] = at;
  }

  /** flush_all now. `cas` is the next CAS value (0 without CAS: the whole second goes). */
  now(now: number, cas: number): void {
    const n = this.n;
    n[DEADLINE] = 0;
    n[UP_TO] = cas === 0 ? now : now - 1;
    n[CAS_LO] = cas >>> 0;
    n[CAS_HI] = Math.floor(cas / 2 ** 32);
  }

  /**
   * A sweep has passed every slot since flush_all now, reclaiming what it flushed: lookups need not
   * check for it any more. Without CAS, not within the flush's second, which still flushes what
   * it stores.
   */
  swept(now: number): void {
    const n = this.n;
    if (n[CAS_HI] !== 0 || n[CAS_LO] !== 0 || now > n[UP_TO]) n[UP_TO] = 0;
  }

  /** Whether the item in slot `h` is dead by a flush_all. */
  covers(slots: Slots, h: number, now: number): boolean {
    const n = this.n;
    // Most lookups meet no flush at all: no item metadata is read then.
    const upTo = n[UP_TO];
    if (upTo !== 0) {
      if (slots.storedAt[h] <= upTo) return true;
      const hi = slots.casHi[h];
      const casHi = n[CAS_HI];
      if (hi < casHi || (hi === casHi && slots.casLo[h] < n[CAS_LO])) return true;
    }
    const deadline = n[DEADLINE];
    return deadline !== 0 && now >= deadline && slots.storedAt[h] < deadline;
  }
}
