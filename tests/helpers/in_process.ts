/**
 * A server context without sockets, so protocol sessions and the HTTP door can be driven in process:
 * bytes in through `Session.consume`, answers out of the Output, on a clock the test moves.
 */
import { createHttpDoor } from "../../routes/app.ts";
import { Clock } from "../../src/clock.ts";
import { parseConfig } from "../../src/config.ts";
import type { ServerContext } from "../../src/context.ts";
import { Limits } from "../../src/limits.ts";
import { Output } from "../../src/protocol/output.ts";
import type { Session } from "../../src/protocol/session.ts";
import { Store } from "../../src/store/store.ts";

export function contextFor(args: string[] = []): ServerContext {
  const parsed = parseConfig(args, {});
  if (!("config" in parsed)) throw new Error(`no config from ${args.join(" ")}`);
  const config = parsed.config;
  const store = new Store(new Clock(), {
    maxBytes: config.maxBytes,
    itemSizeMax: config.itemSizeMax,
    evict: config.evictions,
    casEnabled: config.casEnabled,
  });
  return {
    store,
    config,
    connections: new Set(),
    limits: new Limits(config.maxInflightBytes),
    requestShutdown() {},
  };
}

/** Feeds `request` to the session in one read; the answer bytes and how much was consumed. */
export function feed(session: Session, request: Uint8Array): { answer: Uint8Array; used: number } {
  const out = new Output();
  const used = session.consume(request, 0, request.length, out);
  return { answer: out.view().slice(), used };
}

/** The HTTP door's handler for a context, for `fetch`-style calls without a listener. */
export function httpFor(ctx: ServerContext) {
  return createHttpDoor(ctx).fetch;
}
