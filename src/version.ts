/** This server's own name and semver version: the one place they are written. */
export const SERVER_NAME = "deno-memcached";
export const SERVER_VERSION = "0.2.0";
