/**
 * The store main.ts chooses when persistence is on: it remembers a pending delayed flush_all for
 * snapshots and, once a log is attached, logs the state every mutation leaves behind. The
 * memory-only server uses the plain Store and pays nothing for any of this.
 */
import { Store } from "../store/store.ts";
import type { StoreMode, StoreOutcome } from "../store/types.ts";
import type { ArithOutcome, DeleteOutcome } from "../store/types.ts";
import type { AppendLog } from "./log.ts";
import { putItem } from "./record.ts";

export class PersistentStore extends Store {
  /** Set after the restore, so that replayed records are not logged again. */
  appendLog: AppendLog | null = null;

  override store(
    mode: StoreMode,
    key: Uint8Array,
    value: Uint8Array,
    flags: number,
    exptime: number,
    compareCas = 0n,
    newCas = 0n,
    invalidate = false,
  ): StoreOutcome {
    const outcome = super.store(mode, key, value, flags, exptime, compareCas, newCas, invalidate);
    if (outcome === "stored" && this.appendLog !== null) this.logKey(key);
    return outcome;
  }

  override delete(key: Uint8Array, compareCas = 0n): DeleteOutcome {
    const outcome = super.delete(key, compareCas);
    if (outcome === "deleted" && this.appendLog !== null) this.logDelete(key);
    return outcome;
  }

  override discard(key: Uint8Array): void {
    super.discard(key);
    if (this.appendLog !== null) this.logDelete(key);
  }

  override arith(
    key: Uint8Array,
    incr: boolean,
    delta: bigint,
    compareCas = 0n,
    initial: bigint | null = null,
    exptime = 0,
    copy = false,
  ): ArithOutcome {
    const outcome = super.arith(key, incr, delta, compareCas, initial, exptime, copy);
    if (outcome === "ok" && this.appendLog !== null) this.logKey(key);
    return outcome;
  }

  override touch(key: Uint8Array, exptime: number, countAsGet = false): number {
    const h = super.touch(key, exptime, countAsGet);
    if (h !== -1 && this.appendLog !== null) this.logHandle(key, h);
    return h;
  }

  override setExptime(handle: number, exptime: number): void {
    super.setExptime(handle, exptime);
    if (this.appendLog !== null) this.logHandle(this.keyOf(handle), handle);
  }

  override vivify(key: Uint8Array, value: Uint8Array, exptime: number): number {
    const h = super.vivify(key, value, exptime);
    if (h !== -1 && this.appendLog !== null) this.logHandle(key, h);
    return h;
  }

  override invalidate(handle: number): bigint {
    const cas = super.invalidate(handle);
    if (this.appendLog !== null) this.logHandle(this.keyOf(handle), handle);
    return cas;
  }

  override flush(delay = 0): void {
    super.flush(delay);
    if (this.appendLog !== null) {
      this.appendLog.records.flush(this.clock.now, this.flushDeadline);
      this.appendLog.added();
    }
  }

  /** Logs the key's state now: its item, or a delete when a store left it dead (a past exptime). */
  private logKey(key: Uint8Array): void {
    const h = this.peek(key);
    if (h === -1) this.logDelete(key);
    else this.logHandle(key, h);
  }

  private logHandle(key: Uint8Array, h: number): void {
    putItem(this.appendLog!.records, this, key, h, this.clock.now);
    this.appendLog!.added();
  }

  private logDelete(key: Uint8Array): void {
    this.appendLog!.records.del(this.clock.now, key);
    this.appendLog!.added();
  }
}
