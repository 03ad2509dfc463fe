/** What persistence has done, for `stats persistence`, `/metrics` and `/health`. */
export class PersistStats {
  /** Log and snapshot bytes written since start. */
  bytesWritten = 0;
  fsyncs = 0;
  fsyncMsTotal = 0;
  fsyncMsMax = 0;
  /** Unix seconds of the last snapshot written (0 = none yet). */
  lastSnapshotTime = 0;
  lastSnapshotMs = 0;
  lastSnapshotItems = 0;
  /** The longest time the last snapshot kept clients waiting. */
  lastSnapshotPauseMs = 0;
  rewrites = 0;
  itemsRestored = 0;
  restoreMs = 0;
  errors = 0;
  /** The last error's message while the disk is failing; "" once writes succeed again. */
  lastError = "";

  noteFsync(ms: number): void {
    this.fsyncs++;
    this.fsyncMsTotal += ms;
    if (ms > this.fsyncMsMax) this.fsyncMsMax = ms;
  }
}
