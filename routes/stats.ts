/** `/stats`: memcached's stats groups as JSON, from the same table the memcached doors read. */
import type { Hono } from "hono";
import type { ServerContext } from "../src/context.ts";
import { type Stat, STATS_GROUPS } from "../src/report.ts";
import { json } from "./errors.ts";

/** memcached's names; values that are numbers (rusage's "0.123456" too) become JSON numbers. */
export function statsObject(stats: Stat[]): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [name, value] of stats) {
    out[name] = typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** `GET /stats` and `GET /stats/<group>` for every view group; `stats reset` is POST /admin/stats/reset. */
export function statsRoutes(app: Hono, ctx: ServerContext): void {
  for (const group of STATS_GROUPS) {
    if (group.action !== undefined) continue;
    const path = group.name === "" ? "/stats" : `/stats/${group.name}`;
    app.get(path, () => json(statsObject(group.rows(ctx))));
  }
}
