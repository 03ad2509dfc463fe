const p = JSON.parse(Deno.readTextFileSync(Deno.args[0]));
const self = new Map<string, number>();
const byId = new Map<number, any>();
for (const n of p.nodes) byId.set(n.id, n);
const dt = p.timeDeltas;
const counts = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) {
  counts.set(p.samples[i], (counts.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
}
let total = 0;
for (const [id, t] of counts) {
  const n = byId.get(id);
  const k = `${n.callFrame.functionName || "(anon)"} ${
    n.callFrame.url.split("/").slice(-2).join("/")
  }:${n.callFrame.lineNumber}`;
  self.set(k, (self.get(k) ?? 0) + t);
  total += t;
}
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
  console.log((100 * t / total).toFixed(1).padStart(5), k);
}
