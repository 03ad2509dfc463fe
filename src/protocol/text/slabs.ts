/**
 * `slabs automove` and `slabs reassign`, answered as memcached 1.6.18 answers them. The store has
 * no pages owned by size classes (items of every size share its segments), so there is never a
 * page to move: automove settings are accepted and have nothing to act on, and a valid reassign is
 * told NOSPARE, memcached's answer when the source class has no spare page.
 */
import { LARGEST_CLASS } from "../../store/classes.ts";
import type { CommandLine } from "./line.ts";

const INT32_MAX = 2147483647;
const latin1 = new TextDecoder("latin1");

/** `slabs ...` on a tokenized line. */
export function slabsCommand(r: CommandLine, next: number): number {
  const words: string[] = [];
  for (let i = 0; i < r.ntok; i++) words.push(latin1.decode(r.tokenBytes(i)));
  const quiet = r.noreply();
  r.reply(slabsReply(quiet ? words.slice(0, -1) : words, LARGEST_CLASS), quiet);
  return next;
}

/** The reply to `slabs ...` given as its words (noreply already taken off by the caller). */
export function slabsReply(words: string[], largestClass: number): string {
  const n = words.length;
  if (words[1] === "reassign" && n === 4) {
    const src = strictInt(words[2]);
    const dst = strictInt(words[3]);
    if (src === null || dst === null) return "CLIENT_ERROR bad command line format";
    if (src === dst) return "SAME src and dst class are identical";
    if (src < 0 || dst < 0 || src > largestClass || dst > largestClass) {
      return "BADCLASS invalid src or dst class id";
    }
    return "NOSPARE source class has no spare pages";
  }
  if (words[1] === "automove" && (n === 3 || n === 4)) {
    if (words[2] === "ratio") {
      return n === 4 && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(words[3])
        ? "OK"
        : "ERROR";
    }
    if (!/^\d+$/.test(words[2]) || BigInt(words[2]) >= 1n << 64n) {
      return "CLIENT_ERROR bad command line format";
    }
    // memcached keeps the level in 32 bits.
    const level = Number(BigInt(words[2]) & 0xffffffffn);
    return level <= 2 ? "OK" : "ERROR";
  }
  return "ERROR";
}

function strictInt(word: string): number | null {
  if (!/^[-+]?\d+$/.test(word)) return null;
  const v = Number(word);
  return Math.abs(v) > INT32_MAX ? null : v;
}
