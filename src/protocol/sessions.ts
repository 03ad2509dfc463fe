import type { ConnectionInfo, ServerContext } from "../context.ts";
import { BinarySession } from "./binary/session.ts";
import type { Session } from "./session.ts";
import { TextSession } from "./text/session.ts";

/** The binary protocol's request magic: a first byte of 0x80 means a binary client. */
const BINARY_MAGIC = 0x80;

/** Picks a connection's protocol from its first byte (or `-B`), as memcached's try_read_command does. */
export type SessionFactory = (info: ConnectionInfo, firstByte: number) => Session;

export function memcachedSessions(ctx: ServerContext): SessionFactory {
  const protocol = ctx.config.protocol;
  return (info, firstByte) => {
    const binary = protocol === "binary" || (protocol === "auto" && firstByte === BINARY_MAGIC);
    return binary ? new BinarySession(ctx, info) : new TextSession(ctx, info);
  };
}
