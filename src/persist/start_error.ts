/**
 * Why start-up stops: a damaged file it refuses to guess about (without --persist-repair), or a
 * path it cannot use. main.ts prints the message as one line and exits with status 65. Apart from
 * load.ts so that main.ts can name it without loading persistence.
 */
export class PersistStartError extends Error {}
