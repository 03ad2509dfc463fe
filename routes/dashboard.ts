/**
 * `GET /`: the dashboard, a page that reads the HTTP API from the browser. Every file is served
 * from the process (uPlot comes from npm through deno.json), with an ETag to revalidate against.
 * The files hold no data, so they need no token: the page asks for it and sends it to the API.
 */
import type { Hono } from "hono";
import { createHash } from "node:crypto";
import type { Counters } from "../src/stats.ts";
import { fail } from "./errors.ts";
import page from "./dashboard/index.html" with { type: "text" };
import style from "./dashboard/style.css" with { type: "text" };
import api from "./dashboard/api.js" with { type: "text" };
import charts from "./dashboard/charts.js" with { type: "text" };
import keys from "./dashboard/keys.js" with { type: "text" };
import view from "./dashboard/view.js" with { type: "text" };
import panels from "./dashboard/panels.js" with { type: "text" };
import main from "./dashboard/main.js" with { type: "text" };
import icon from "./dashboard/favicon.svg" with { type: "text" };
import uplot from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotStyle from "uplot/dist/uPlot.min.css" with { type: "text" };

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

function asset(text: string, type: string): Asset {
  const body = new TextEncoder().encode(text);
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, type, etag };
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";
/** The files under /dashboard/, by name. */
const FILES = new Map<string, Asset>([
  ["style.css", asset(style, CSS)],
  ["api.js", asset(api, JS)],
  ["charts.js", asset(charts, JS)],
  ["keys.js", asset(keys, JS)],
  ["view.js", asset(view, JS)],
  ["panels.js", asset(panels, JS)],
  ["main.js", asset(main, JS)],
  ["uPlot.iife.min.js", asset(uplot, JS)],
  ["uPlot.min.css", asset(uplotStyle, CSS)],
]);
const PAGE = asset(page, "text/html; charset=utf-8");
const ICON = asset(icon, "image/svg+xml");

/** Everything from this origin; no inline script, so injected markup cannot run. */
const POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function serve(request: Request, file: Asset): Response {
  const headers = {
    "content-type": file.type,
    "etag": file.etag,
    // Cached, but checked against the ETag on every use: a restarted server may serve new files.
    "cache-control": "no-cache",
    "content-security-policy": POLICY,
    "x-content-type-options": "nosniff",
  };
  if (matches(request.headers.get("if-none-match"), file.etag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(file.body, { headers });
}

/** RFC 9110 If-None-Match: "*" or a list of tags, compared weakly. */
function matches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

/** Registers the page and its files; call before the token guard so they stay public. */
export function dashboardRoutes(app: Hono, counters: Counters): void {
  app.get("/", (c) => serve(c.req.raw, PAGE));
  app.get("/favicon.ico", (c) => serve(c.req.raw, ICON));
  app.get("/dashboard/:file", (c) => {
    const file = FILES.get(c.req.param("file"));
    if (file === undefined) return fail(counters, 404, "no_route", "no such dashboard file");
    return serve(c.req.raw, file);
  });
}
