/**
 * Seeded random conversations in the classic text protocol, sent to the real memcached and to this
 * server, compared answer by answer. Each command is followed by `mn` and read up to its `MN`, so
 * the two servers see the same requests one at a time and the comparison does not depend on how
 * either batches. No expiry and no flush: nothing depends on the clock.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { cutPoints, generator, sendInPieces } from "../helpers/random.ts";
import { NO_MEMCACHED } from "../helpers/server.ts";
import { QUIET_MEMCACHED, withBoth } from "../helpers/differential.ts";

const SEEDS = [1, 2, 3, 4, 5, 6];
const COMMANDS_PER_SEED = 400;
const KEYS = ["a", "b", "c", "n", "long_key_" + "x".repeat(200), "k".repeat(251)];

/** A command with `<cas:key>` where the CAS a server last showed for that key goes. */
function randomCommand(pick: (n: number) => number): string {
  const key = () => KEYS[pick(KEYS.length)];
  const value = () => {
    switch (pick(4)) {
      case 0:
        return String(pick(1000));
      case 1:
        return "18446744073709551615";
      case 2:
        return "";
      default:
        return "v".repeat(pick(30));
    }
  };
  const flags = () => ["0", "1", "4294967295", "77"][pick(4)];
  const exptime = () => ["0", "1000", "0"][pick(3)];
  const noreply = () => (pick(5) === 0 ? " noreply" : "");
  const storage = (verb: string, extra = "") => {
    const v = value();
    return `${verb} ${key()} ${flags()} ${exptime()} ${v.length}${extra}${noreply()}\r\n${v}\r\n`;
  };
  const keys = () => Array.from({ length: 1 + pick(3) }, key).join(" ");
  // Meta flags that do not read the clock (no t, h, l, R): a random few of them.
  const some = (all: string[]) => all.filter(() => pick(3) === 0).join(" ");
  const casOf = (k: string) => (pick(2) === 0 ? `C<cas:${k}>` : `C${pick(50)}`);
  switch (pick(16)) {
    case 0:
    case 1:
      return storage("set");
    case 2:
      return storage("add");
    case 3:
      return storage("replace");
    case 4:
      return storage(pick(2) === 0 ? "append" : "prepend");
    case 5: {
      const k = key();
      const v = value();
      const cas = pick(3) === 0 ? String(pick(50)) : `<cas:${k}>`;
      return `cas ${k} ${flags()} 0 ${v.length} ${cas}${noreply()}\r\n${v}\r\n`;
    }
    case 6:
    case 7:
      return `get ${keys()}\r\n`;
    case 8:
      return `gets ${keys()}\r\n`;
    case 9:
      return `delete ${key()}${noreply()}\r\n`;
    case 10:
      return `${pick(2) === 0 ? "incr" : "decr"} ${key()} ${
        ["1", "0", "18446744073709551615", "abc", "-1"][pick(5)]
      }${noreply()}\r\n`;
    case 11:
      return `touch ${key()} ${exptime()}${noreply()}\r\n`;
    case 12:
      return `${pick(2) === 0 ? "gat" : "gats"} ${exptime()} ${keys()}\r\n`;
    case 13:
      return `mg ${key()} ${some(["v", "f", "c", "s", "k", "q", "O123", "T0", "N30", "E"])}\r\n`;
    case 14: {
      const k = key();
      const v = value();
      const mode = ["", "MS", "ME", "MA", "MP", "MR", "MX"][pick(7)];
      const extra = some(["c", "k", "q", "O9", "I", "T0", casOf(k)]);
      return `ms ${k} ${v.length} F${flags()} ${mode} ${extra}\r\n${v}\r\n`;
    }
    default:
      return [
        "verbosity 1\r\n",
        "get\r\n",
        "incr n\r\n",
        "set a 0 0\r\n",
        "bogus\r\n",
        ((k) => `md ${k} ${some(["q", "I", "k", "O5", casOf(k)])}\r\n`)(key()),
        ((k) =>
          `ma ${k} ${
            some(["MD", "MI", "D5", "D18446744073709551615", "N0", "J7", "v", "c", "q", casOf(k)])
          }\r\n`)(key()),
      ][pick(7)];
  }
}

/** Keeps the CAS each key last showed on one server, to fill `<cas:key>` for that server. */
class CasBook {
  private last = new Map<string, string>();
  fill(command: string): string {
    return command.replace(/<cas:([^>]+)>/, (_, k) => this.last.get(k) ?? "1");
  }
  /** `gets` names the key in its VALUE lines; a meta answer's `c` flag is the command's key's. */
  note(command: string, answer: string): void {
    for (const m of answer.matchAll(/^VALUE (\S+) \d+ \d+ (\d+)\r$/gm)) this.last.set(m[1], m[2]);
    const meta = /^m[gsda] (\S+)/.exec(command);
    const cas = /^(?:VA|HD|NS|EX|NF)\b.* c(\d+)/m.exec(answer);
    if (meta !== null && cas !== null) this.last.set(meta[1], cas[1]);
  }
}

async function converse(port: number, commands: string[]): Promise<string[]> {
  const c = await RawClient.connect(port);
  const book = new CasBook();
  const answers: string[] = [];
  try {
    for (const command of commands) {
      const answer = await c.call(book.fill(command) + "mn\r\n", "MN\r\n");
      book.note(command, answer);
      answers.push(answer);
    }
  } finally {
    c.close();
  }
  return answers;
}

Deno.test("random text conversations get memcached's answers, byte for byte", {
  ignore: NO_MEMCACHED,
}, async () => {
  for (const seed of SEEDS) {
    await withBoth(QUIET_MEMCACHED, async (real, ours) => {
      const pick = generator(seed);
      const commands = Array.from({ length: COMMANDS_PER_SEED }, () => randomCommand(pick));
      const expected = await converse(real.port, commands);
      const actual = await converse(ours.port, commands);
      for (let i = 0; i < commands.length; i++) {
        const at = `seed ${seed}, command ${i}: ${JSON.stringify(commands[i])}`;
        assert.equal(actual[i], expected[i], at);
      }
    });
  }
});

Deno.test("the same random commands pipelined, cut at random places, get the same bytes", {
  ignore: NO_MEMCACHED,
}, async () => {
  for (const seed of SEEDS.slice(0, 3)) {
    await withBoth(QUIET_MEMCACHED, async (real, ours) => {
      const pick = generator(seed);
      // Without a key over 250 bytes: a multi-get that fails on one drops the answers memcached
      // has not written yet, which depends on how it batched them.
      // Nor incr/decr/ma: whether one meets an item an earlier mg answer still holds depends on
      // where memcached's reads happened to end.
      const commands = Array.from({ length: COMMANDS_PER_SEED }, () => randomCommand(pick))
        .filter((c) => !c.includes("k".repeat(251)) && !/^(incr|decr|ma) /.test(c));
      const stream = new TextEncoder().encode(
        commands.map((c) => new CasBook().fill(c)).join("") + "mn\r\n",
      );
      const cuts = cutPoints(pick, stream.length, 600);
      const done = (t: string) => t.endsWith("MN\r\n");
      const expected = await sendInPieces(real.port, stream, cuts, done);
      const actual = await sendInPieces(ours.port, stream, cuts, done);
      assert.ok(expected.endsWith("MN\r\n"), "memcached answered the whole stream");
      assert.equal(actual, expected, `seed ${seed}`);
    });
  }
});
