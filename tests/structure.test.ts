/**
 * The layout's rules, checked on the source: no import for side effects, no import cycles between
 * modules, imports between the top folders point one way, and no source file grows past 400 lines.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;
const IMPORT = /^(import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?"([^"]+)";/gms;

interface Edge {
  to: string;
  typeOnly: boolean;
  sideEffect: boolean;
}

function sources(): string[] {
  const files = ["main.ts"];
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(ROOT + dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (e.name.endsWith(".ts")) files.push(path);
    }
  };
  walk("src");
  walk("routes");
  return files;
}

function importsOf(file: string): Edge[] {
  const text = Deno.readTextFileSync(ROOT + file);
  const edges: Edge[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[3];
    if (!spec.startsWith(".")) continue;
    const to = new URL(spec, `file:///${file}`).pathname.slice(1);
    const clause = m[0];
    const typeOnly = m[2] !== undefined || /^import\s*\{\s*(type\s+\w+\s*,?\s*)+\}/.test(clause);
    edges.push({ to, typeOnly, sideEffect: /^import\s+"/.test(clause) });
  }
  return edges;
}

/** The top folder a module belongs to: the unit the one-way rule speaks of. */
function unit(file: string): string {
  const parts = file.split("/");
  if (parts.length === 1) return parts[0];
  if (parts[0] === "routes") return "routes";
  return parts.length === 2 ? "src" : `src/${parts[1]}`;
}

const graph = new Map(sources().map((f) => [f, importsOf(f)]));

Deno.test("no module is imported for its side effects", () => {
  const offenders = [...graph].flatMap(([f, es]) =>
    es.filter((e) => e.sideEffect).map((e) => `${f} -> ${e.to}`)
  );
  assert.deepEqual(offenders, []);
});

Deno.test("no import cycle between modules (type imports included)", () => {
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...path.slice(path.indexOf(f)), f].join(" -> "));
      return;
    }
    state.set(f, "open");
    for (const e of graph.get(f) ?? []) visit(e.to, [...path, f]);
    state.set(f, "done");
  };
  for (const f of graph.keys()) visit(f, []);
  assert.deepEqual(cycles, []);
});

Deno.test("imports between top folders point one way: doors -> shared parts -> store", () => {
  // Type-only imports are erased at run time: the shared context may name the store's type.
  const edges = new Set<string>();
  for (const [f, es] of graph) {
    for (const e of es) {
      if (!e.typeOnly && unit(f) !== unit(e.to)) edges.add(`${unit(f)} -> ${unit(e.to)}`);
    }
  }
  const back = [...edges].filter((e) => edges.has(e.split(" -> ").reverse().join(" -> ")));
  assert.deepEqual(back, []);
  for (const edge of edges) {
    const [from, to] = edge.split(" -> ");
    assert.ok(to !== "main.ts", `nothing imports the composition root: ${edge}`);
    assert.ok(to !== "src/server" || from === "main.ts", `only main.ts opens listeners: ${edge}`);
    assert.ok(from !== "src/store" || to === "src", `the store imports only shared parts: ${edge}`);
  }
});

Deno.test("every source file under src/ and routes/ stays under 400 lines", () => {
  const long = [...graph.keys()]
    .filter((f) => f !== "main.ts")
    .map((f) => [f, Deno.readTextFileSync(ROOT + f).split("\n").length - 1] as const)
    .filter(([, lines]) => lines >= 400)
    .map(([f, lines]) => `${f}: ${lines} lines`);
  assert.deepEqual(long, []);
});
