/**
 * The text protocol's introspection and admin commands: `watch`, `lru_crawler`, `lru`, and the
 * `stats` subcommands that are not plain stat groups (detail, cachedump, sizes_enable/disable,
 * hotkeys). Answers are memcached 1.6.18's, byte for byte.
 */
import { cachedump, metadumpLine, mgdumpLine, streamItems } from "../../introspect/dump.ts";
import { introspection } from "../../introspect/introspection.ts";
import { parseWatchClasses } from "../../introspect/watch.ts";
import { encodeAscii } from "../../bytes.ts";
import { parseU32 } from "../numbers.ts";
import type { CommandLine } from "./line.ts";

/** memcached's MAX_NUMBER_OF_SLAB_CLASSES: crawler and cachedump class ids are below it. */
const CLASS_LIMIT = 64;

function word(r: CommandLine, i: number): string {
  let s = "";
  for (let p = r.tok[2 * i]; p < r.tok[2 * i + 1]; p++) s += String.fromCharCode(r.buf[p]);
  return s;
}

/** Writes through the connection, for answers that go on after the command returns. */
function connectionWriter(r: CommandLine): ((data: Uint8Array) => Promise<void>) | null {
  return r.conn?.write ?? null;
}

export function watchCommand(r: CommandLine, next: number, end: number): number {
  const { config } = r.ctx;
  if (!config.watchEnabled) {
    r.out.line("CLIENT_ERROR watch commands not allowed");
    return next;
  }
  if (r.out.length > 0) {
    r.out.line("ERROR cannot pipeline other commands before watch");
    return next;
  }
  const names: string[] = [];
  for (let i = 1; i < r.ntok; i++) names.push(word(r, i));
  const flags = parseWatchClasses(names);
  const write = connectionWriter(r);
  if (flags === null || write === null) {
    r.out.line("ERROR");
    return next;
  }
  const hub = introspection(r.ctx).watch;
  const watcher = hub.add(flags, config.watcherBufferBytes, (text) => write(encodeAscii(text)));
  if (watcher === null) {
    r.out.line("WATCHER_TOO_MANY log watcher limit reached");
    return next;
  }
  r.out.line("OK");
  r.watching = true;
  if (r.conn !== null) r.conn.state = "conn_watch";
  r.cleanup = () => hub.remove(watcher);
  // memcached stops reading a watcher's requests: whatever else it sent is ignored.
  return end;
}

/** The class list of a crawler request: null for all (or hash), undefined when one is invalid. */
function crawlClasses(spec: string): Set<number> | null | undefined {
  if (spec === "all" || spec === "hash") return null;
  const classes = new Set<number>();
  for (const part of spec.split(",")) {
    if (!/^\d+$/.test(part)) return undefined;
    const id = Number(part);
    if (id < 1 || id >= CLASS_LIMIT) return undefined;
    classes.add(id);
  }
  return classes;
}

export function lruCrawlerCommand(r: CommandLine, next: number): number {
  const out = r.out;
  const state = introspection(r.ctx);
  const n = r.ntok;
  const sub = n >= 2 ? word(r, 1) : "";
  if (n === 3 && (sub === "crawl" || sub === "metadump" || sub === "mgdump")) {
    if (!state.settings.crawlerEnabled) {
      out.line("CLIENT_ERROR lru crawler disabled");
      return next;
    }
    if (sub !== "crawl" && !r.ctx.config.dumpEnabled) {
      out.line(`ERROR ${sub} not allowed`);
      return next;
    }
    if (sub !== "crawl" && out.length > 0) {
      out.line(`ERROR cannot pipeline other commands before ${sub}`);
      return next;
    }
    const classes = crawlClasses(word(r, 2));
    if (classes === undefined) {
      out.line("BADCLASS invalid class id");
      return next;
    }
    if (sub === "crawl") {
      out.line(state.crawl(r.store) ? "OK" : "BUSY currently processing crawler request");
      return next;
    }
    const write = connectionWriter(r);
    if (write === null) {
      out.line("ERROR an unknown error happened");
      return next;
    }
    const render = sub === "metadump" ? metadumpLine(classes) : mgdumpLine(classes);
    const trailer = sub === "metadump" ? "END\r\n" : "EN\r\n";
    r.pending = streamItems(r.store, render, (t) => write(encodeAscii(t)), trailer).catch(() => {
      r.closing = true;
    });
    return next;
  }
  if (n === 3 && (sub === "tocrawl" || sub === "sleep")) {
    const value = parseU32(r.buf, r.tok[4], r.tok[5]);
    if (value === null) out.line("CLIENT_ERROR bad command line format");
    else if (sub === "sleep" && value > 1000000) {
      out.line("CLIENT_ERROR sleep must be one second or less");
    } else out.line("OK");
    return next;
  }
  if (n === 2 && sub === "enable") {
    out.line(
      state.settings.enableCrawler() ? "OK" : "ERROR failed to start lru crawler thread",
    );
    return next;
  }
  if (n === 2 && sub === "disable") {
    state.settings.crawlerEnabled = false;
    out.line("OK");
    return next;
  }
  out.line("ERROR");
  return next;
}

/** `lru tune|mode|temp_ttl`: accepted as memcached checks them; one LRU here has nothing to tune. */
export function lruCommand(r: CommandLine, next: number): number {
  const n = r.ntok;
  const sub = n >= 2 ? word(r, 1) : "";
  const quiet = r.noreply();
  const args = n - (quiet ? 1 : 0);
  if (sub === "tune" && args >= 6) {
    const hot = parseU32(r.buf, r.tok[4], r.tok[5]);
    const warm = parseU32(r.buf, r.tok[6], r.tok[7]);
    const hotFactor = Number(word(r, 4));
    const factor = Number(word(r, 5));
    if (hot === null || warm === null || Number.isNaN(hotFactor) || Number.isNaN(factor)) {
      r.reply("ERROR", quiet);
    } else if (hot + warm > 80) r.reply("ERROR hot and warm pcts must not exceed 80", quiet);
    else if (factor <= 0 || hotFactor <= 0) {
      r.reply("ERROR hot/warm age factors must be greater than 0", quiet);
    } else r.reply("OK", quiet);
  } else if (sub === "mode" && args >= 3) {
    const mode = word(r, 2);
    r.reply(mode === "flat" || mode === "segmented" ? "OK" : "ERROR", quiet);
  } else if (sub === "temp_ttl" && args >= 3) {
    r.reply(/^[-+]?\d+$/.test(word(r, 2)) ? "OK" : "ERROR", quiet);
  } else r.reply("ERROR", quiet);
  return next;
}

/**
 * The stats subcommands that are not stat groups. Returns false when `stats <word>` is not one of
 * them (the caller looks the stat groups up).
 */
export function adminStats(r: CommandLine): boolean {
  if (r.ntok < 2) return false;
  const out = r.out;
  const state = introspection(r.ctx);
  const sub = word(r, 1);
  switch (sub) {
    case "detail": {
      const arg = r.ntok >= 3 ? word(r, 2) : "";
      if (arg === "on" || arg === "off") {
        state.setDetail(arg === "on");
        out.line("OK");
      } else if (arg === "dump") out.ascii(state.prefixes.dump());
      else out.line("CLIENT_ERROR usage: stats detail on|off|dump");
      return true;
    }
    case "cachedump": {
      if (!r.ctx.config.dumpEnabled) out.line("CLIENT_ERROR stats cachedump not allowed");
      else if (r.ntok < 4) out.line("CLIENT_ERROR bad command line");
      else {
        const id = parseU32(r.buf, r.tok[4], r.tok[5]);
        const limit = parseU32(r.buf, r.tok[6], r.tok[7]);
        if (id === null || limit === null) out.line("CLIENT_ERROR bad command line format");
        else if (id >= CLASS_LIMIT) out.line("CLIENT_ERROR Illegal slab id");
        else out.ascii(cachedump(r.store, id, limit));
      }
      return true;
    }
    // memcached answers these two with a stat line and no END.
    case "sizes_enable":
      if (!r.ctx.config.casEnabled) {
        out.line("STAT sizes_status error");
        out.line("STAT sizes_error cas_support_disabled");
        return true;
      }
      state.settings.enableSizes(r.store.lastCas + 1n);
      out.line("STAT sizes_status enabled");
      return true;
    case "sizes_disable":
      state.settings.disableSizes();
      out.line("STAT sizes_status disabled");
      return true;
    case "hotkeys": {
      // Not memcached's: the sampled hot keys, most read first, as `STAT <key> <estimated reads>`.
      const top = r.ntok >= 3 ? parseU32(r.buf, r.tok[4], r.tok[5]) : 10;
      if (top === null || top === 0) {
        out.line("CLIENT_ERROR bad command line format");
        return true;
      }
      const hot = state.hot;
      for (const k of hot.top(top)) out.line(`STAT ${k.key} ${k.count * hot.every}`);
      out.line("END");
      return true;
    }
  }
  return false;
}

/**
 * memcached's `refresh_certs`: the certificate files are read again for new connections (open
 * ones keep theirs); OK, or the error while the old certificates stay (sent even with noreply).
 */
export function refreshCertsCommand(r: CommandLine, next: number): number {
  const quiet = r.noreply();
  const tls = r.ctx.tls;
  if (tls === undefined) {
    r.out.line("Error TLS not enabled");
    return next;
  }
  const error = tls.refresh();
  if (error === null) r.reply("OK", quiet);
  else r.out.line(error);
  return next;
}
