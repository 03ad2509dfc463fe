/** `/stats`: memcached's `stats`, `stats settings`, `stats items`, `stats slabs` and `stats conns` as JSON. */
import type { Hono } from "hono";
import type { ServerContext } from "../src/context.ts";
import {
  connsStats,
  generalStats,
  itemsStats,
  settingsStats,
  slabsStats,
  type Stat,
} from "../src/report.ts";
import { json } from "./errors.ts";

/** memcached's names; values that are numbers (rusage's "0.123456" too) become JSON numbers. */
export function statsObject(stats: Stat[]): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [name, value] of stats) {
    out[name] = typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}

export function statsRoutes(app: Hono, ctx: ServerContext): void {
  app.get("/stats", () => json(statsObject(generalStats(ctx))));
  app.get("/stats/settings", () => json(statsObject(settingsStats(ctx))));
  app.get("/stats/items", () => json(statsObject(itemsStats(ctx))));
  app.get("/stats/slabs", () => json(statsObject(slabsStats(ctx))));
  app.get("/stats/conns", () => json(statsObject(connsStats(ctx))));
}
