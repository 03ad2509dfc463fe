/**
 * `/keys`: the items of the shared store over HTTP. Each handler translates the request into one
 * store call and renders the outcome; the cache logic stays in the store.
 */
import type { Hono } from "hono";
import type { ServerContext } from "../src/context.ts";
import { markFetched, type Store } from "../src/store/store.ts";
import { isValidKey, type StoreMode } from "../src/store/types.ts";
import type { PlainAnswer } from "../src/http_answer.ts";
import { asResponse, fail, json, plainError } from "./errors.ts";
import {
  BadParameter,
  base64,
  etag,
  expiryOf,
  jsonU64,
  keyFromUrl,
  keyText,
  parseFlags,
  parseIfMatch,
  parseU64Text,
  Query,
  utf8OrNull,
} from "./params.ts";
import { readBody } from "./body.ts";
import { listKeys } from "./listing.ts";

/** Where the synchronous GET handler decodes its key: no allocation per read. */
const keyScratch = new Uint8Array(1024);

/** Value bytes one `GET /keys?key=...` may answer with: its JSON is built whole (about 4/3 of it). */
export const MAX_MULTI_GET_BYTES = 4 * 1024 * 1024;
/** incr/decr bodies are a small JSON object. */
const MAX_JSON_BODY = 4096;

/**
 * Registers the `/keys` routes; returns the GET /keys/{key} handler so the app can call it
 * directly for plain reads (see createApp).
 */
export function keyRoutes(
  app: Hono,
  ctx: ServerContext,
): (url: string) => Response | PlainAnswer {
  const store = ctx.store;
  const counters = store.counters;
  const limits = ctx.limits;
  const timeoutMs = ctx.config.httpTimeoutMs;

  const badKey = () =>
    fail(
      counters,
      400,
      "bad_key",
      "a key is 1 to 250 bytes (UTF-8, percent-decoded) without spaces or control characters",
    );
  /** A miss, built once: the hot path answers it without a Response. */
  const missingPlain = plainError(404, "not_found", "no item with this key");
  const missing = () => asResponse(missingPlain);
  const changed = (message: string) => fail(counters, 412, "precondition_failed", message);
  const tooLarge = () =>
    fail(counters, 413, "too_large", "the value is larger than the item size limit (-I)");
  const noMemory = () =>
    fail(counters, 507, "out_of_memory", "out of memory storing the item (evictions are off)");
  /** Largest value a key with these client flags can hold under `-I`. */
  const maxValue = (key: Uint8Array, flags: number) =>
    store.options.itemSizeMax - store.itemSize(key.length, 0, flags);

  /** GET /keys/{key}, the hot path: one lookup, one copy of the value (made by Response). */
  const readValue = (url: string): Response | PlainAnswer => {
    const key = keyFromUrl(url, keyScratch);
    if (key === null) return badKey();
    const h = store.get(key);
    if (h === -1) return missingPlain;
    if (url.includes("?")) {
      const q = new Query(url);
      if (q.text("format") === "json") {
        const body = itemJson(store, key, h, q.text("encoding") === "base64");
        markFetched(store, h);
        return json(body, 200, { etag: etag(store.casOf(h)) });
      }
    }
    const headers: [string, string][] = [
      ["content-type", "application/octet-stream"],
      ["etag", etag(store.casOf(h))],
      ["x-memcached-flags", String(store.flagsOf(h))],
    ];
    const exptime = store.exptimeOf(h);
    if (exptime !== 0) headers.push(["x-memcached-ttl", String(exptime - store.clock.now)]);
    // A view into the store, copied once by whoever takes the answer (PlainAnswer).
    const answer = { status: 200, headers, body: store.valueOf(h) };
    markFetched(store, h);
    return answer;
  };

  app.get("/keys/:key", (c) => asResponse(readValue(c.req.raw.url)));

  app.get("/keys", (c): Response | Promise<Response> => {
    const q = new Query(c.req.raw.url);
    if (q.has("key")) return multiGet(store, q, badKey);
    return listKeys(store, q).then((page) => json(page));
  });

  app.put("/keys/:key", async (c) => {
    const req = c.req.raw;
    const key = keyFromUrl(req.url);
    if (key === null) return badKey();
    const q = new Query(req.url);
    const flagsText = q.text("flags");
    const ttl = expiryOf((name) => q.text(name), store.clock.now) ?? 0;
    const flags = flagsText === undefined ? 0 : parseFlags(flagsText);
    const ifMatch = req.headers.get("if-match");
    const ifNoneMatch = req.headers.get("if-none-match");
    let mode: StoreMode = "set";
    let compareCas = 0n;
    if (ifMatch !== null && ifNoneMatch !== null) {
      throw new BadParameter("If-Match and If-None-Match cannot be combined");
    }
    if (ifNoneMatch !== null) {
      if (ifNoneMatch.trim() !== "*") {
        throw new BadParameter("a write supports only If-None-Match: * (store if absent)");
      }
      mode = "add";
    } else if (ifMatch !== null) {
      const tag = parseIfMatch(ifMatch);
      if (tag === "*") mode = "replace";
      else {
        mode = "cas";
        compareCas = tag;
      }
    }
    const body = await readBody(req, maxValue(key, flags), limits, timeoutMs);
    if (body === null) {
      counters.store_too_large++;
      // As memcached does: a refused set drops the old value so no stale data survives.
      if (mode === "set") store.discard(key);
      return tooLarge();
    }
    switch (store.store(mode, key, body, flags, ttl, compareCas)) {
      case "stored":
        return new Response(null, {
          status: mode === "add" ? 201 : 204,
          headers: { etag: etag(store.lastCas) },
        });
      case "not_stored":
        return mode === "add"
          ? changed("the key exists (If-None-Match: *)")
          : changed("the key does not exist (If-Match: *)");
      case "exists":
        return changed("the item changed since that ETag (its CAS moved)");
      case "not_found":
        return missing();
      case "too_large":
        return tooLarge();
      case "no_memory":
        return noMemory();
    }
  });

  app.delete("/keys/:key", (c) => {
    const req = c.req.raw;
    const key = keyFromUrl(req.url);
    if (key === null) return badKey();
    const compareCas = casPrecondition(req);
    switch (store.delete(key, compareCas)) {
      case "deleted":
        return new Response(null, { status: 204 });
      case "not_found":
        return missing();
      case "exists":
        return changed("the item changed since that ETag (its CAS moved)");
    }
  });

  for (const mode of ["append", "prepend"] as const) {
    app.post(`/keys/:key/${mode}`, async (c) => {
      const req = c.req.raw;
      const key = keyFromUrl(req.url);
      if (key === null) return badKey();
      const compareCas = casPrecondition(req);
      // The request carries no flags (memcached's append too is checked with its own, here 0).
      const body = await readBody(req, maxValue(key, 0), limits, timeoutMs);
      if (body === null) {
        counters.store_too_large++;
        return tooLarge();
      }
      switch (store.store(mode, key, body, 0, 0, compareCas)) {
        case "stored":
          return new Response(null, { status: 204, headers: { etag: etag(store.lastCas) } });
        case "not_stored":
        case "not_found":
          return missing();
        case "exists":
          return changed("the item changed since that ETag (its CAS moved)");
        case "too_large":
          return tooLarge();
        case "no_memory":
          return noMemory();
      }
    });
  }

  for (const op of ["incr", "decr"] as const) {
    app.post(`/keys/:key/${op}`, async (c) => {
      const req = c.req.raw;
      const key = keyFromUrl(req.url);
      if (key === null) return badKey();
      const compareCas = casPrecondition(req);
      const q = new Query(req.url);
      const body = await readBody(req, MAX_JSON_BODY, limits, timeoutMs);
      if (body === null) return fail(counters, 413, "too_large", "the JSON body is too large");
      const fields = body.length === 0 ? {} : jsonFields(req, body);
      if (fields === "unsupported") {
        return fail(counters, 415, "unsupported_media_type", "send the body as application/json");
      }
      const param = (name: string) => q.text(name) ?? fields[name];
      const byText = param("by");
      const initialText = param("initial");
      const by = byText === undefined ? 1n : parseU64Text("by", byText);
      const initial = initialText === undefined ? null : parseU64Text("initial", initialText);
      const ttl = expiryOf(param, store.clock.now) ?? 0;
      switch (store.arith(key, op === "incr", by, compareCas, initial, ttl)) {
        case "ok":
          return json({ value: jsonU64(store.lastNumber) }, 200, { etag: etag(store.lastCas) });
        case "not_found":
          return missing();
        case "non_numeric":
          return fail(
            counters,
            409,
            "not_numeric",
            `cannot ${op}: the value is not a decimal unsigned 64-bit number`,
          );
        case "exists":
          return changed("the item changed since that ETag (its CAS moved)");
        case "no_memory":
          return noMemory();
      }
    });
  }

  app.post("/keys/:key/touch", (c) => {
    const req = c.req.raw;
    const key = keyFromUrl(req.url);
    if (key === null) return badKey();
    const q = new Query(req.url);
    const asked = expiryOf((name) => q.text(name), store.clock.now);
    if (asked === undefined) {
      throw new BadParameter("touch needs ttl (seconds from now) or exptime (memcached's rule)");
    }
    const h = store.touch(key, asked);
    if (h === -1) return missing();
    const headers: Record<string, string> = { etag: etag(store.casOf(h)) };
    const exptime = store.exptimeOf(h);
    if (exptime !== 0) headers["x-memcached-ttl"] = String(exptime - store.clock.now);
    return new Response(null, { status: 204, headers });
  });
  return readValue;
}

/** `If-Match` on delete/append/prepend/incr/decr: a CAS the item must still have (0n = none). */
function casPrecondition(req: Request): bigint {
  const header = req.headers.get("if-match");
  if (header === null) return 0n;
  const tag = parseIfMatch(header);
  return tag === "*" ? 0n : tag;
}

const ARITH_FIELDS = new Set(["by", "initial", "ttl", "exptime"]);

/** The fields of a small JSON object body, as text; "unsupported" when it is not JSON. */
function jsonFields(
  req: Request,
  body: Uint8Array,
): Record<string, string | undefined> | "unsupported" {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) return "unsupported";
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw new BadParameter("the body is not valid JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new BadParameter("the body must be a JSON object");
  }
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (!ARITH_FIELDS.has(name)) {
      throw new BadParameter(
        `unknown field ${name} (the body takes ${[...ARITH_FIELDS].join(", ")})`,
      );
    }
    if (typeof value === "string") out[name] = value;
    else if (typeof value === "number" && Number.isSafeInteger(value)) out[name] = String(value);
    else {
      throw new BadParameter(
        `${name} must be an integer (a decimal string for values beyond 2^53)`,
      );
    }
  }
  return out;
}

/** The JSON form of a read: value (UTF-8 text or base64), flags, cas and remaining ttl. */
function itemJson(store: Store, key: Uint8Array, h: number, forceBase64: boolean) {
  const value = store.valueOf(h);
  const text = forceBase64 ? null : utf8OrNull(value);
  const exptime = store.exptimeOf(h);
  return {
    key: keyText(key),
    value: text ?? base64(value),
    encoding: text === null ? "base64" : "utf-8",
    size: value.length,
    flags: store.flagsOf(h),
    cas: jsonU64(store.casOf(h)),
    ttl: exptime === 0 ? null : exptime - store.clock.now,
  };
}

/** `GET /keys?key=a&key=b`: counted reads of many keys, as memcached's multi-key get. */
function multiGet(store: Store, q: Query, badKey: () => Response): Response {
  const keys = q.allBytes("key");
  if (!keys.every(isValidKey)) return badKey();
  let size = 0;
  for (const key of keys) {
    const h = store.peek(key);
    if (h !== -1) size += store.valueOf(h).length;
  }
  if (size > MAX_MULTI_GET_BYTES) {
    return fail(
      store.counters,
      413,
      "too_large",
      `the values asked for add up to ${size} bytes; one multi-key read answers at most ` +
        `${MAX_MULTI_GET_BYTES} (read them in smaller groups)`,
      { "x-limit-bytes": String(MAX_MULTI_GET_BYTES) },
    );
  }
  const forceBase64 = q.text("encoding") === "base64";
  const items = [];
  const absent = [];
  for (const key of keys) {
    const h = store.get(key);
    if (h === -1) {
      absent.push(keyText(key));
      continue;
    }
    items.push(itemJson(store, key, h, forceBase64));
    markFetched(store, h);
  }
  return json({ items, missing: absent });
}
