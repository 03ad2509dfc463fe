/** Reads one snapshot or log file into a Restorer, deciding what a damaged file means. */
import { log } from "../log.ts";
import { LOG_MAGIC, MAGIC_BYTES, scanRecords } from "./record.ts";
import type { Restorer } from "./restore.ts";
import { PersistStartError } from "./start_error.ts";

/**
 * Applies the file's records; returns the length of its good part (where appending may go on), or
 * null when there is no such file. A torn end of a log is cut (a write cut short by a crash); a
 * damaged record with data after it, or any damage in a snapshot (written whole, then renamed),
 * stops start-up unless `repair`, which keeps the records before it.
 */
export function loadFile(
  path: string,
  magic: string,
  restorer: Restorer,
  repair: boolean,
): number | null {
  let file: Uint8Array;
  try {
    file = Deno.readFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  const isLog = magic === LOG_MAGIC;
  const scan = scanRecords(file, magic);
  if (scan === "bad magic") {
    // A log whose creation was cut short: nothing in it yet.
    if (isLog && file.length < MAGIC_BYTES) return 0;
    if (!repair) throw new PersistStartError(`${path} is not a ${isLog ? "log" : "snapshot"} file`);
    log.warn("{path}: not a persistence file; ignored (--persist-repair)", { path });
    return 0;
  }
  const damaged = scan.ending === "corrupt" || (scan.ending === "torn" && !isLog);
  if (damaged && !repair) {
    throw new PersistStartError(
      `${path} is damaged at byte ${scan.goodEnd} (a bad record before its end); ` +
        `start with --persist-repair to keep the ${scan.starts.length} records before it`,
    );
  }
  if (isLog) restorer.log(file, scan);
  else restorer.snapshot(file, scan);
  if (damaged) restorer.repaired = true;
  if (scan.ending !== "clean") {
    const dropped = file.length - scan.goodEnd;
    log.warn(`{path}: ${damaged ? "damaged" : "torn"} at byte {at}, {dropped} bytes dropped`, {
      path,
      at: scan.goodEnd,
      dropped,
    });
  }
  return scan.goodEnd;
}
