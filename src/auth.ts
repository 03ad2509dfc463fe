/**
 * Password files for SASL PLAIN (binary protocol, `-S`) and text protocol authentication (`-Y`):
 * one `user:password` per line. The password is the rest of the line (it may contain `:`); a
 * trailing CR is dropped, blank lines and lines starting with `#` are skipped, and a line without
 * `:` makes the whole file invalid so a typo cannot silently lock everyone out.
 */

export class PasswordFileError extends Error {}

export class PasswordFile {
  private constructor(
    readonly path: string,
    private readonly users: Uint8Array[],
    private readonly passwords: Uint8Array[],
  ) {}

  get size(): number {
    return this.users.length;
  }

  /** Parses the bytes of a password file; `path` is only for messages. */
  static parse(path: string, data: Uint8Array): PasswordFile {
    const users: Uint8Array[] = [];
    const passwords: Uint8Array[] = [];
    let lineNo = 0;
    for (let p = 0; p < data.length;) {
      let nl = data.indexOf(10, p);
      if (nl === -1) nl = data.length;
      let e = nl;
      if (e > p && data[e - 1] === 13) e--;
      lineNo++;
      const s = p;
      p = nl + 1;
      if (e === s || data[s] === 35 /* # */) continue;
      const colon = data.indexOf(58, s);
      if (colon === -1 || colon >= e || colon === s) {
        throw new PasswordFileError(`${path}:${lineNo}: expected user:password`);
      }
      users.push(data.slice(s, colon));
      passwords.push(data.slice(colon + 1, e));
    }
    if (users.length === 0) throw new PasswordFileError(`${path}: no user:password lines`);
    return new PasswordFile(path, users, passwords);
  }

  /** Reads and parses a password file (throws PasswordFileError when it cannot be used). */
  static load(path: string): PasswordFile {
    let data: Uint8Array;
    try {
      data = Deno.readFileSync(path);
    } catch (err) {
      throw new PasswordFileError(`cannot read password file ${path}: ${(err as Error).message}`);
    }
    return PasswordFile.parse(path, data);
  }

  /**
   * True when user and password match an entry. Every entry is compared in full, so the time
   * taken does not tell which user exists or how much of a password was right.
   */
  check(user: Uint8Array, password: Uint8Array): boolean {
    let ok = 0;
    for (let i = 0; i < this.users.length; i++) {
      ok |= constantTimeEqual(user, this.users[i]) & constantTimeEqual(password, this.passwords[i]);
    }
    return ok === 1;
  }
}

/** 1 when equal, 0 otherwise, looking at every byte of `expected` whatever `given` holds. */
export function constantTimeEqual(given: Uint8Array, expected: Uint8Array): number {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= (i < given.length ? given[i] : 0) ^ expected[i];
  }
  return diff === 0 ? 1 : 0;
}

const loaded = new Map<string, PasswordFile>();

/** The password file at `path`, read once and shared by every connection. */
export function passwordFile(path: string): PasswordFile {
  let file = loaded.get(path);
  if (file === undefined) {
    file = PasswordFile.load(path);
    loaded.set(path, file);
  }
  return file;
}
