/**
 * What the HTTP app (routes/) and the HTTP server (src/server/http/) agree on: an answer whose
 * bytes are at hand, and which responses are streams.
 */

/**
 * An answer written without a Response: the hot path's reads. `body` may be a view into the store's
 * shared memory, valid while this thread holds the store lock: whoever takes it copies it before
 * anything else runs, and says so (the HTTP server's `copied` hook lets the lock go).
 */
export interface PlainAnswer {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
}

const STREAMING = /^(text\/event-stream|application\/x-ndjson)/;

/** True for the types written chunk by chunk as produced (event streams, NDJSON). */
export function isStreaming(response: Response): boolean {
  return STREAMING.test(response.headers.get("content-type") ?? "");
}
