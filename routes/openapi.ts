/** `/openapi.json`: an OpenAPI 3 description of every route (a test keeps it and the app in step). */
import type { Hono } from "hono";
import { SERVER_VERSION } from "../src/version.ts";
import { MAX_PAGE } from "./listing.ts";
import { DASHBOARD_PATHS } from "./dashboard_docs.ts";
import { INTROSPECTION_PATHS, KEY_LINE, STREAM_PARAMETER } from "./introspect_docs.ts";

const error = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});
const jsonBody = (description: string, schema: unknown) => ({
  description,
  content: { "application/json": { schema } },
});
const etagHeader = {
  ETag: {
    description: 'The item\'s CAS as a quoted decimal, e.g. "42"',
    schema: { type: "string" },
  },
};
const ttlHeader = {
  "X-Memcached-TTL": {
    description: "Seconds the item has left to live (absent when it never expires)",
    schema: { type: "integer" },
  },
};
const query = (name: string, description: string, schema: unknown, required = false) => ({
  name,
  in: "query",
  required,
  description,
  schema,
});
const keyParam = {
  name: "key",
  in: "path",
  required: true,
  description:
    "The key, percent-encoded UTF-8 (1 to 250 bytes once decoded, no spaces or control " +
    "characters). `%XX` escapes decode to single bytes, so any memcached key is reachable.",
  schema: { type: "string" },
};
const ifMatch = {
  name: "If-Match",
  in: "header",
  required: false,
  description: "Only if the item's CAS is still this ETag (memcached cas); `*`: only if it exists",
  schema: { type: "string" },
};
const ttl = query(
  "ttl",
  "Seconds from now, any size: 0 never expires, negative already expired (not with exptime)",
  { type: "integer", format: "int32" },
);
const exptime = query(
  "exptime",
  "memcached's exptime instead of ttl: up to 2592000 seconds relative, larger values a unix time",
  { type: "integer", format: "int32" },
);
const u64 = { oneOf: [{ type: "integer", minimum: 0 }, { type: "string", pattern: "^[0-9]+$" }] };
const common = {
  "400": error("Bad key or bad parameter"),
  "401": error("Missing or wrong bearer token (when the server has one)"),
};
const item = {
  type: "object",
  properties: {
    key: { type: "string" },
    value: { type: "string" },
    encoding: { type: "string", enum: ["utf-8", "base64"] },
    size: { type: "integer" },
    flags: { type: "integer", format: "int64", minimum: 0, maximum: 4294967295 },
    cas: u64,
    ttl: { type: "integer", nullable: true, description: "Seconds left; null = never expires" },
  },
};
const stats = (description: string) =>
  jsonBody(description, {
    type: "object",
    additionalProperties: { oneOf: [{ type: "number" }, { type: "string" }] },
  });
const statsOp = (summary: string) => ({
  get: { summary, responses: { "200": stats("memcached's stat names and values"), ...common } },
});
const arith = (op: string) => ({
  post: {
    summary: `${op} a decimal value by \`by\` (default 1), unsigned 64-bit`,
    parameters: [
      keyParam,
      ifMatch,
      query("by", "The delta", u64),
      query("initial", "Create a missing key with this value instead of 404", u64),
      ttl,
      exptime,
    ],
    requestBody: {
      required: false,
      content: {
        "application/json": {
          schema: {
            type: "object",
            properties: {
              by: u64,
              initial: u64,
              ttl: { type: "integer" },
              exptime: { type: "integer" },
            },
          },
        },
      },
    },
    responses: {
      "200": {
        ...jsonBody("The new value (a decimal string beyond 2^53)", {
          type: "object",
          properties: { value: u64 },
        }),
        headers: etagHeader,
      },
      ...common,
      "404": error("No such key"),
      "409": error("The value is not a decimal number"),
      "412": error("If-Match failed"),
      "415": error("A body that is not application/json"),
    },
  },
});
const concat = (op: string) => ({
  post: {
    summary: `${op} raw bytes to an existing value`,
    parameters: [keyParam, ifMatch],
    requestBody: {
      required: true,
      content: { "*/*": { schema: { type: "string", format: "binary" } } },
    },
    responses: {
      "204": { description: "Stored", headers: etagHeader },
      ...common,
      "404": error("No such key"),
      "412": error("If-Match failed"),
      "413": error("The result would exceed the item size limit"),
    },
  },
});

export const OPENAPI = {
  openapi: "3.0.3",
  info: {
    title: "deno-memcached HTTP API",
    version: SERVER_VERSION,
    description: "The HTTP door to the same store as the memcached protocol: a key written here " +
      "is read by memcached clients and the other way round. Errors are JSON " +
      '`{"error": "<code>", "message": "<text>"}`. A query parameter a route does not take, or ' +
      "one given twice, is a 400 naming it.",
  },
  components: {
    securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    schemas: {
      Error: {
        type: "object",
        required: ["error", "message"],
        properties: { error: { type: "string" }, message: { type: "string" } },
      },
      Item: item,
      KeyLine: KEY_LINE,
    },
  },
  security: [{ bearer: [] }],
  paths: {
    "/health": {
      get: {
        summary: "200 while serving (no token needed); `persistence` is off, ok or degraded",
        security: [],
        responses: { "200": jsonBody("Serving", { type: "object" }) },
      },
    },
    "/keys": {
      get: {
        summary: "List keys by prefix (byte order, paged by cursor), or read many keys with key=",
        parameters: [
          query("prefix", "Only keys starting with these (percent-decoded) bytes", {
            type: "string",
          }),
          query("limit", `Page size, 1 to ${MAX_PAGE} (default 100)`, {
            type: "integer",
            minimum: 1,
            maximum: MAX_PAGE,
          }),
          query("cursor", "The cursor of the previous page", { type: "string" }),
          {
            ...query("key", "Read these keys (repeat the parameter) instead of listing", {
              type: "array",
              items: { type: "string" },
            }),
            style: "form",
            explode: true,
          },
          query("encoding", "base64: always base64 values in the read form", {
            type: "string",
            enum: ["base64"],
          }),
          STREAM_PARAMETER,
        ],
        responses: {
          "200": jsonBody("A page of keys, or the items read (stream=ndjson: KeyLine lines)", {
            oneOf: [
              {
                type: "object",
                properties: {
                  keys: { type: "array", items: { type: "string" } },
                  cursor: { type: "string", nullable: true },
                },
              },
              {
                type: "object",
                properties: {
                  items: { type: "array", items: { $ref: "#/components/schemas/Item" } },
                  missing: { type: "array", items: { type: "string" } },
                },
              },
            ],
          }),
          ...common,
        },
      },
    },
    "/keys/{key}": {
      get: {
        summary: "Read the value (raw bytes), or its JSON form with format=json",
        parameters: [
          keyParam,
          query("format", "json: the JSON form with metadata", { type: "string", enum: ["json"] }),
          query("encoding", "base64: always base64 in the JSON form", {
            type: "string",
            enum: ["base64"],
          }),
        ],
        responses: {
          "200": {
            description: "The exact bytes stored",
            headers: {
              ...etagHeader,
              ...ttlHeader,
              "X-Memcached-Flags": { description: "The item's flags", schema: { type: "integer" } },
            },
            content: {
              "application/octet-stream": { schema: { type: "string", format: "binary" } },
              "application/json": { schema: { $ref: "#/components/schemas/Item" } },
            },
          },
          ...common,
          "404": error("No such key, or it expired"),
        },
      },
      head: {
        summary: "As GET, without the body",
        parameters: [keyParam],
        responses: { "200": { description: "Exists" }, "404": { description: "No such key" } },
      },
      put: {
        summary: "Store raw bytes (set; If-Match = cas, If-Match: * = replace, " +
          "If-None-Match: * = add)",
        parameters: [
          keyParam,
          ttl,
          exptime,
          query("flags", "Opaque uint32 stored with the item", {
            type: "integer",
            minimum: 0,
            maximum: 4294967295,
          }),
          ifMatch,
          {
            name: "If-None-Match",
            in: "header",
            required: false,
            description: "`*`: only if the key does not exist (memcached add)",
            schema: { type: "string", enum: ["*"] },
          },
        ],
        requestBody: {
          required: true,
          content: { "*/*": { schema: { type: "string", format: "binary" } } },
        },
        responses: {
          "201": { description: "Added (If-None-Match: *)", headers: etagHeader },
          "204": { description: "Stored", headers: etagHeader },
          ...common,
          "404": error("If-Match with an ETag, and the key is gone"),
          "412": error("The CAS moved, the key exists (add) or is missing (If-Match: *)"),
          "413": error("The value exceeds the item size limit (-I)"),
          "507": error("Out of memory with evictions off (-M)"),
        },
      },
      delete: {
        summary: "Delete the item",
        parameters: [keyParam, ifMatch],
        responses: {
          "204": { description: "Deleted" },
          ...common,
          "404": error("No such key"),
          "412": error("If-Match failed"),
        },
      },
    },
    "/keys/{key}/append": concat("Append"),
    "/keys/{key}/prepend": concat("Prepend"),
    "/keys/{key}/incr": arith("Increment"),
    "/keys/{key}/decr": arith("Decrement (stops at 0)"),
    "/keys/{key}/touch": {
      post: {
        summary: "Set a new ttl without reading the value",
        parameters: [keyParam, ttl, exptime],
        responses: {
          "204": { description: "Touched", headers: { ...etagHeader, ...ttlHeader } },
          ...common,
          "404": error("No such key"),
        },
      },
    },
    "/stats": statsOp("memcached `stats` (HTTP requests count in the same counters)"),
    "/stats/settings": statsOp("memcached `stats settings`"),
    "/stats/items": statsOp("memcached `stats items`"),
    "/stats/slabs": statsOp("memcached `stats slabs`"),
    "/stats/conns": statsOp("memcached `stats conns`"),
    "/stats/sizes": statsOp(
      "memcached `stats sizes`: `sizes_status disabled` until `stats sizes_enable` (text protocol)",
    ),
    ...INTROSPECTION_PATHS,
    ...DASHBOARD_PATHS,
    "/stats/persistence": statsOp(
      "this server's persistence (-e, --persist-log): mode, status, persist_errors, bytes written, " +
        "fsync latency, rewrites, last snapshot, items restored",
    ),
    "/metrics": {
      get: {
        summary: "Prometheus text format, with the memcached exporter's metric names",
        responses: {
          "200": {
            description: "Metrics",
            content: { "text/plain": { schema: { type: "string" } } },
          },
          ...common,
        },
      },
    },
    "/admin/flush": {
      post: {
        summary: "memcached flush_all: invalidate every item, now or after `delay` seconds",
        parameters: [query("delay", "Seconds to wait", { type: "integer", minimum: 0 })],
        responses: {
          "204": { description: "Flushed (or scheduled)" },
          ...common,
          "403": error("flush_all is disabled (-F)"),
        },
      },
    },
    "/admin/stats/reset": {
      post: {
        summary: "memcached `stats reset`: zero the counters",
        responses: { "204": { description: "Reset" }, ...common },
      },
    },
    "/openapi.json": {
      get: {
        summary: "This document",
        responses: { "200": jsonBody("OpenAPI 3", { type: "object" }), ...common },
      },
    },
  },
};

export function openapiRoutes(app: Hono): void {
  const body = JSON.stringify(OPENAPI);
  app.get(
    "/openapi.json",
    () => new Response(body, { headers: { "content-type": "application/json" } }),
  );
}
