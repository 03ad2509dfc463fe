/** The OpenAPI description of the introspection routes (routes/introspect.ts), merged into /openapi.json. */

export const unauthorized = {
  description: "Missing or wrong bearer token (when the server has one)",
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};
export const eventStream = {
  description: "The event stream",
  content: { "text/event-stream": { schema: { type: "string" } } },
};
export const badParameter = {
  description: "Bad parameter",
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};
const counts = {
  type: "object",
  properties: {
    get: { type: "integer" },
    hit: { type: "integer" },
    set: { type: "integer" },
    del: { type: "integer" },
  },
};

/** `stream=ndjson` on GET /keys. */
export const STREAM_PARAMETER = {
  name: "stream",
  in: "query",
  required: false,
  description: "ndjson: every live key, one JSON object per line (see KeyLine), streamed " +
    "without blocking other clients; 403 when dumping is disabled (-X)",
  schema: { type: "string", enum: ["ndjson"] },
};

export const KEY_LINE = {
  type: "object",
  description: "One line of GET /keys?stream=ndjson",
  properties: {
    key: { type: "string", description: "The key's bytes as Latin-1 characters" },
    size: { type: "integer" },
    flags: { type: "integer" },
    exptime: { type: "integer", description: "Absolute unix time, 0 = never" },
    ttl: { type: "integer", description: "Seconds left, -1 = never expires" },
    lastAccess: { type: "integer", description: "Unix time of the last access" },
    cas: { type: "string", pattern: "^[0-9]+$" },
    fetched: { type: "boolean" },
  },
};

export const INTROSPECTION_PATHS = {
  "/watch": {
    get: {
      summary: "memcached `watch` as Server-Sent Events: one `data:` line per log line",
      description: "Events carry memcached's log lines (`ts=... gid=... type=item_get ...`), and " +
        "`skipped=N` never appears: a reader a whole buffer (-o watcher_logbuf_size) behind is " +
        "dropped instead. A first `ready` event names the classes. 403 with -W.",
      parameters: [{
        name: "events",
        in: "query",
        required: false,
        description: "Comma-separated event classes (default fetchers)",
        schema: {
          type: "string",
          example: "fetchers,mutations,connevents",
        },
      }],
      responses: {
        "200": eventStream,
        "400": badParameter,
        "401": unauthorized,
        "403": { description: "Watching is disabled (-W)" },
      },
    },
  },
  "/stats/detail": {
    get: {
      summary: "memcached `stats detail dump` as JSON: counts per key prefix (-D delimiter)",
      description: "Collecting is switched with `stats detail on|off` over the text protocol.",
      responses: {
        "200": {
          description: "Per-prefix counts",
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: {
                  enabled: { type: "boolean" },
                  delimiter: { type: "string" },
                  dropped: {
                    type: "integer",
                    description: "Records not kept because the prefix table was full",
                  },
                  prefixes: { type: "object", additionalProperties: counts },
                },
              },
            },
          },
        },
        "401": unauthorized,
      },
    },
  },
  "/stats/hotkeys": {
    get: {
      summary: "The most read keys, from a fixed-size Space-Saving sampler over 1 read in N",
      parameters: [{
        name: "top",
        in: "query",
        required: false,
        description: "How many keys (1 to 256, default 10)",
        schema: { type: "integer", minimum: 1, maximum: 256 },
      }],
      responses: {
        "200": {
          description: "Hot keys, most read first",
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: {
                  sample_every: { type: "integer", description: "1 read in this many is sampled" },
                  capacity: { type: "integer", description: "Keys the sampler tracks at most" },
                  sampled: { type: "integer", description: "Reads sampled since start or reset" },
                  keys: {
                    type: "array",
                    items: {
                      type: "object",
                      properties: {
                        key: { type: "string" },
                        count: { type: "integer", description: "Sampled reads (upper bound)" },
                        error: { type: "integer", description: "Possible overcount in count" },
                        estimated_reads: { type: "integer", description: "count * sample_every" },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        "400": badParameter,
        "401": unauthorized,
      },
    },
  },
};
