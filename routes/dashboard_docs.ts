/** The OpenAPI description of the dashboard's routes (routes/dashboard.ts, routes/stats_stream.ts). */

import { badParameter, eventStream, unauthorized } from "./introspect_docs.ts";

/** A dashboard file: public (it holds no data), revalidated by ETag. */
const asset = (summary: string, type: string) => ({
  get: {
    summary,
    security: [],
    responses: {
      "200": { description: "The file", content: { [type]: { schema: { type: "string" } } } },
      "304": { description: "Unchanged since the ETag in If-None-Match" },
    },
  },
});

export const DASHBOARD_PATHS = {
  "/stats/stream": {
    get: {
      summary: "Server-Sent Events: one `stats` event per second, data " +
        '`{"at": <ms>, "stats": {...}, "slabs": {...}}`; a client that takes no event for ' +
        "5 s is dropped; the stream ends when the server stops",
      responses: {
        "200": eventStream,
        "400": badParameter,
        "401": unauthorized,
      },
    },
  },
  "/": asset("The dashboard page (it asks for the token and sends it to the API)", "text/html"),
  "/favicon.ico": asset("The dashboard's icon", "image/svg+xml"),
  "/dashboard/{file}": {
    get: {
      ...asset("The dashboard's scripts and style sheets", "text/javascript").get,
      parameters: [{ name: "file", in: "path", required: true, schema: { type: "string" } }],
    },
  },
};
