/**
 * Applies snapshot and log records to a store at start-up, through the store's public API only.
 * Items that expired or were flushed while the server was down stay gone; the CAS counter ends
 * above every restored CAS.
 */
import type { Store } from "../store/store.ts";
import { DEL, FLUSH, PUT, PUT_FIXED, type Scan } from "./record.ts";

export class Restorer {
  /** A damaged file was loaded in part (--persist-repair): its generation must be rewritten. */
  repaired = false;
  private maxCas = 0n;
  /** The latest delayed flush_all: items made before it die once it has come. */
  private deadline = 0;

  constructor(private readonly store: Store) {}

  /**
   * A snapshot: its flush record first, then the most recent items that fit in -m, applied from
   * the least to the most recent so that the LRU order comes back as it was (and with -M, where
   * nothing is evicted, the most recent are the ones kept).
   */
  snapshot(file: Uint8Array, scan: Scan): void {
    const view = viewOf(file);
    const { starts, ends } = scan;
    const store = this.store;
    let fit = 0;
    let bytes = 0;
    for (; fit < starts.length; fit++) {
      const at = starts[fit];
      if (file[at] !== PUT) {
        this.apply(file, view, at, ends[fit]);
        continue;
      }
      const keyLength = file[at + 22];
      const valueLength = ends[fit] - at - PUT_FIXED - keyLength;
      bytes += store.itemSize(keyLength, valueLength, view.getUint32(at + 5));
      if (bytes > store.maxBytes) break;
    }
    for (let i = fit - 1; i >= 0; i--) {
      if (file[starts[i]] === PUT) this.apply(file, view, starts[i], ends[i]);
    }
  }

  /** A log: every record in the order it was written. */
  log(file: Uint8Array, scan: Scan): void {
    const view = viewOf(file);
    for (let i = 0; i < scan.starts.length; i++) {
      this.apply(file, view, scan.starts[i], scan.ends[i]);
    }
  }

  /** Re-arms a delayed flush still to come and lifts the CAS counter; call once at the end. */
  finish(): void {
    const store = this.store;
    if (this.deadline > store.clock.now) store.flush(this.deadline);
    store.raiseCasFloor(this.maxCas);
    store.resetCounters();
  }

  private apply(file: Uint8Array, view: DataView, start: number, end: number): void {
    const store = this.store;
    const now = store.clock.now;
    const time = view.getUint32(start + 1);
    switch (file[start]) {
      case PUT: {
        const keyLength = file[start + 22];
        const key = file.subarray(start + PUT_FIXED, start + PUT_FIXED + keyLength);
        const exptime = view.getUint32(start + 9);
        const flushed = this.deadline !== 0 && time < this.deadline && this.deadline <= now;
        if (flushed || (exptime !== 0 && exptime <= now)) {
          store.discard(key);
          return;
        }
        const hi = view.getUint32(start + 13);
        const lo = view.getUint32(start + 17);
        const cas = hi === 0 ? BigInt(lo) : (BigInt(hi) << 32n) | BigInt(lo);
        if (cas > this.maxCas) this.maxCas = cas;
        const value = file.subarray(start + PUT_FIXED + keyLength, end);
        const flags = view.getUint32(start + 5);
        if (store.store("set", key, value, flags, exptime, 0n, cas) !== "stored") return;
        const bits = file[start + 21];
        if (bits !== 0) store.setBits(store.peek(key), bits);
        return;
      }
      case DEL:
        store.discard(file.subarray(start + 5, end));
        return;
      case FLUSH: {
        const deadline = view.getUint32(start + 5);
        this.deadline = deadline;
        // Everything applied so far was stored before this flush_all, so before its deadline.
        if (deadline <= now) store.dropAll();
        return;
      }
    }
  }
}

function viewOf(file: Uint8Array): DataView {
  return new DataView(file.buffer, file.byteOffset, file.byteLength);
}
