/**
 * The README's flags are the parser's: every flag and `-o` option src/config.ts (and
 * src/config_tls.ts) takes is named in the README, and every flag in the README's tables is one it
 * takes.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const README = Deno.readTextFileSync(`${ROOT}README.md`);
const CONFIG = Deno.readTextFileSync(`${ROOT}src/config.ts`);

/** parseArgs options of src/config.ts (and src/config_tls.ts): long name and short letter. */
const OPTIONS = [
  ...`${CONFIG}\n${Deno.readTextFileSync(`${ROOT}src/config_tls.ts`)}`.matchAll(
    /^\s+"?([a-z][a-z-]*)"?: \{ type: "\w+"(?:, short: "(.)")?/gm,
  ),
].map((m) => ({ long: m[1], short: m[2] as string | undefined }));
const CONFIG_TLS = Deno.readTextFileSync(`${ROOT}src/config_tls.ts`);
/** The `-o` options src/config.ts tells apart, and the TLS ones src/config_tls.ts does. */
const EXTENDED = [
  ...new Set([
    ...[...CONFIG.matchAll(/key === "([a-z_]+)"/g)].map((m) => m[1]),
    ...[...CONFIG_TLS.matchAll(/case "(ssl_[a-z_]+)":/g)].map((m) => m[1]),
  ]),
];

/** Every code span of the README's text (code blocks left out). */
const SPANS = [...README.replace(/```[\s\S]*?```/g, "").matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);

Deno.test("the parser was read: its options and -o options are found", () => {
  assert.ok(OPTIONS.length > 40, `${OPTIONS.length} options`);
  assert.ok(EXTENDED.includes("idle_timeout") && EXTENDED.length >= 5, EXTENDED.join(" "));
});

Deno.test("every flag the parser takes is named in the README", () => {
  const unnamed = OPTIONS.filter(({ long, short }) =>
    !SPANS.some((span) =>
      span.split(/[\s,=]+/).some((word) => word === `--${long}` || word === `-${short}`)
    )
  ).map(({ long, short }) => (short === undefined ? `--${long}` : `-${short}/--${long}`));
  assert.deepEqual(unnamed, []);
});

Deno.test("every -o option the parser tells apart is named in the README", () => {
  const unnamed = EXTENDED.filter((key) =>
    !SPANS.some((span) => new RegExp(`(^|[\\s,|=])${key}([\\s,|=]|$)`).test(span))
  );
  assert.deepEqual(unnamed, []);
});

Deno.test("every flag in the README's tables is one the parser takes", () => {
  const rows = README.split("\n").filter((line) => /^\| `-/.test(line));
  assert.ok(rows.length > 40, `${rows.length} rows`);
  const unknown: string[] = [];
  for (const row of rows) {
    const cell = row.split("|")[1];
    for (const [, written] of cell.matchAll(/(?:^|[\s`,])(--?[a-zA-Z][a-z-]*)/g)) {
      const flag = written.replace(/^-(\w)\1+$/, "-$1"); // -vv is -v twice
      const known = flag === "-o"
        ? EXTENDED.some((key) => cell.includes(key))
        : OPTIONS.some(({ long, short }) => flag === `--${long}` || flag === `-${short}`);
      if (!known) unknown.push(flag);
    }
  }
  assert.deepEqual(unknown, []);
});
