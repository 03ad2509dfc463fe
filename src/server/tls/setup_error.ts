/**
 * A file that cannot serve: memcached's message (start-up exits 64, refresh_certs answers it).
 * Apart from material.ts so that main.ts can name it without loading node:crypto.
 */
export class TlsSetupError extends Error {}
