/**
 * The most common descriptor limit, `ulimit -n 1024` (hard): the server starts with memcached's
 * defaults, says in one line how many clients fit, reports it as maxconns, and 1,100 clients held
 * against either door are served up to that number and told why beyond it; once they go, new
 * clients are served on both doors.
 */
import assert from "node:assert/strict";
import { RawClient } from "../helpers/client.ts";
import { assertHealthy, storeSentinels } from "../helpers/hostile.ts";
import { type Child, startOurs } from "../helpers/server.ts";
import { readStats } from "../helpers/stats.ts";

const HELD = 1100;
const TOO_MANY = "ERROR Too many open connections\r\n";

/** Opens a connection, sends `request` and reads the first answer (or "" within the timeout). */
async function ask(port: number, request: string, done: (t: string) => boolean) {
  const c = await RawClient.connect(port);
  await c.send(request);
  return { client: c, answer: await c.readUntil(done, 3000) };
}

const memcachedAsk = (port: number) =>
  ask(port, "version\r\n", (t) => t.endsWith("\r\n") || t.length > 40);
const httpAsk = (port: number) =>
  ask(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", (t) => /\r\n\r\n[\s\S]*}/.test(t));

/** Holds `HELD` clients on one door; returns the held ones and what every answer began with. */
async function flood(port: number, asking: typeof memcachedAsk) {
  const held: RawClient[] = [];
  const answers = new Map<string, number>();
  for (let i = 0; i < HELD; i++) {
    const { client, answer } = await asking(port);
    const kind = answer.startsWith("VERSION ") || answer.startsWith("HTTP/1.1 200")
      ? "served"
      : answer === TOO_MANY
      ? "too many"
      : answer.startsWith("HTTP/1.1 503")
      ? "503"
      : answer === ""
      ? "silent"
      : answer.slice(0, 40);
    answers.set(kind, (answers.get(kind) ?? 0) + 1);
    if (kind === "served") held.push(client);
    else client.close();
  }
  return { held, answers: Object.fromEntries(answers) };
}

async function servedAgain(server: Child): Promise<void> {
  const m = await memcachedAsk(server.port);
  m.client.close();
  assert.match(m.answer, /^VERSION /);
  const h = await httpAsk(server.httpPort);
  h.client.close();
  assert.match(h.answer, /^HTTP\/1.1 200/);
}

Deno.test("ulimit -n 1024: starts with the defaults, 1,100 clients on each door, then serves", async () => {
  const server = await startOurs([], 1024);
  const held: RawClient[] = [];
  try {
    const line = await server.waitForOutput(/(\d+) clients fit at once/);
    const fit = Number(/(\d+) clients fit at once/.exec(line)?.[1]);
    assert.ok(fit > 800 && fit < 1024, line);
    await storeSentinels(server.port);
    const c = await RawClient.connect(server.port);
    const settings = await readStats(c, "settings");
    c.close();
    assert.equal(settings.maxconns, fit, "maxconns tells how many clients fit");
    assert.equal(settings.http_conn_limit, fit);

    // memcached's door: served up to maxconns, memcached's error line beyond; HTTP meanwhile 503.
    const text = await flood(server.port, memcachedAsk);
    held.push(...text.held);
    assert.deepEqual(text.answers, { served: fit, "too many": HELD - fit });
    const meanwhile = await httpAsk(server.httpPort);
    meanwhile.client.close();
    assert.match(meanwhile.answer, /^HTTP\/1.1 503[\s\S]*ulimit -n/);
    for (const c of held.splice(0)) c.close();
    await new Promise((r) => setTimeout(r, 500));
    await servedAgain(server);

    // The HTTP door: the same, with 503 beyond; memcached's door meanwhile has its error line.
    const web = await flood(server.httpPort, httpAsk);
    held.push(...web.held);
    assert.deepEqual(web.answers, { served: fit, "503": HELD - fit });
    const other = await memcachedAsk(server.port);
    other.client.close();
    assert.equal(other.answer, TOO_MANY);
    for (const c of held.splice(0)) c.close();
    await new Promise((r) => setTimeout(r, 1500)); // closed HTTP connections linger up to 1 s
    await servedAgain(server);
    await assertHealthy(server, "after 1,100 clients on each door");
  } finally {
    for (const c of held) c.close();
    await server.stop();
  }
});

Deno.test("a hard ulimit -n too low for even one client beside the reserve: exit 71", async () => {
  const message = await startOurs([], 80).then(async (started) => {
    await started.stop();
    return "started";
  }, (err: Error) => err.message);
  assert.match(message, /only \d+ descriptors can be opened .* no client fits/);
});
