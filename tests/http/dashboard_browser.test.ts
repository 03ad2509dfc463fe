/// <reference lib="dom" />
/**
 * The dashboard at GET /, driven in real headless Chromium (Debian's `chromium`) by puppeteer-core:
 * live charts after memcached traffic, the key browser against memcached clients, the token flow,
 * and screenshots at a desktop and a phone width (saved under tests/.out/ to be looked at).
 */
import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- test-only: kept out of deno.json so `deno task start` never fetches it
import puppeteer, { type Browser, type Page } from "npm:puppeteer-core@25.16.0";
import { RawClient } from "../helpers/client.ts";
import { httpReady } from "../helpers/http.ts";
import { type Child, startOurs } from "../helpers/server.ts";

const CHROMIUM = "/usr/bin/chromium";
const OUT = new URL("../.out/", import.meta.url).pathname;

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const missing = !installed(CHROMIUM);
if (missing) {
  console.warn(
    `\n!!! SKIPPED: the dashboard browser tests need ${CHROMIUM} (apt-get install chromium) !!!\n`,
  );
}

async function launch(): Promise<{ browser: Browser; profile: string }> {
  const profile = await Deno.makeTempDir({ prefix: "dashboard-chromium-" });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
  return { browser, profile };
}

/** A page that records console errors, uncaught exceptions and every request's URL. */
async function open(browser: Browser, width: number) {
  const page = await browser.newPage();
  await page.setViewport({ width, height: 900 });
  const errors: string[] = [];
  const urls: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${m.text()} @ ${m.location().url}`);
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e}`));
  page.on("request", (r) => urls.push(r.url()));
  return { page, errors, urls };
}

const text = (page: Page, selector: string) =>
  page.$eval(selector, (el) => (el as HTMLElement).innerText);

async function withServer(
  args: string[],
  body: (server: Child, base: string, browser: Browser) => Promise<void>,
) {
  const server = await startOurs(args);
  try {
    const { browser, profile } = await launch();
    try {
      const base = await httpReady(`http://127.0.0.1:${server.httpPort}`);
      await body(server, base, browser);
    } finally {
      await browser.close();
      await Deno.remove(profile, { recursive: true });
    }
  } finally {
    await server.stop();
  }
}

Deno.test({
  name: "dashboard: charts follow memcached traffic, keys browse and edit, no stray console errors",
  ignore: missing,
  async fn() {
    const snapshot = await Deno.makeTempFile({ prefix: "dashboard-snapshot-" });
    await Deno.remove(snapshot);
    await withServer(["-m", "16", "-e", snapshot], async (server, base, browser) => {
      const { page, errors } = await open(browser, 1280);
      await page.goto(base + "/", { waitUntil: "load" });
      await page.waitForSelector("#live[data-state=live]", { timeout: 10_000 });
      assert.match(await text(page, "#auth-state"), /API open/);
      assert.match(await text(page, "#settings"), /item_size_max\s+1048576/);
      assert.match(await text(page, "#version"), /^\d+\.\d+\.\d+ \(memcached 1\.6\.18 protocol\)$/);
      assert.match(await text(page, "#persist-state"), /^Snapshot on every clean stop: ok\.$/);
      assert.match(await text(page, "#persistence"), /Restored at start\s+0 items/);
      assert.match(await text(page, "#hotkeys-note"), /No reads sampled yet/);

      // Writes over memcached for a few seconds, until a chart shows the sets per second.
      const mc = await RawClient.connect(server.port);
      let writing = true;
      const traffic = (async () => {
        for (let n = 0; writing; n++) {
          await mc.call(`set dash:alpha 5 0 6\r\nvalue${n % 10}\r\n`);
          await mc.call("get dash:alpha\r\nget dash:missing\r\n", "END\r\nEND\r\n");
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      try {
        // Each chart prints its latest values: all of these move while the traffic lasts.
        await page.waitForFunction(() => {
          const now = (id: string) =>
            document.querySelector(`#chart-${id} .now`)?.textContent ?? "";
          return /set [1-9]/.test(now("ops")) && /get [1-9]/.test(now("ops")) &&
            /hits \d/.test(now("hits")) && /in [1-9]/.test(now("bytes")) &&
            /items 1$/.test(now("items")) &&
            document.getElementById("tile-items")?.textContent === "1";
        }, { timeout: 10_000 });
      } finally {
        writing = false;
        await traffic;
      }
      assert.match(await text(page, "#tile-memory"), /of 16\.0 MiB/);

      // Hot keys: many reads of one key put it first (the panel refreshes every 5 s).
      const reads = Array(100).fill("dash:alpha").join(" ");
      for (let i = 0; i < 20; i++) await mc.call(`get ${reads}\r\n`, "END\r\n");
      await page.waitForFunction(
        () => document.querySelector("#hotkeys tbody td")?.textContent === "dash:alpha",
        { timeout: 10_000 },
      );
      assert.match(await text(page, "#hotkeys-note"), /sampled reads/);
      assert.match(await text(page, "#slabs"), /\d+ B/);

      // Paging: 25 keys at 20 a page.
      for (let i = 0; i < 25; i++) {
        assert.equal(
          await mc.call(`set page:${String(i).padStart(2, "0")} 0 0 1\r\nx\r\n`),
          "STORED\r\n",
        );
      }
      const listed = () => page.$$eval("#key-list button", (bs) => bs.map((b) => b.textContent));
      await page.type("#key-prefix", "page:");
      await page.click("#key-search button[type=submit]");
      await page.waitForFunction(() => document.querySelectorAll("#key-list button").length === 20);
      assert.equal((await listed())[0], "page:00");
      await page.click("#key-next");
      await page.waitForFunction(() => document.querySelectorAll("#key-list button").length === 5);
      assert.deepEqual(await listed(), ["page:20", "page:21", "page:22", "page:23", "page:24"]);
      assert.equal(await page.$eval("#key-next", (b) => (b as HTMLButtonElement).disabled), true);
      await page.click("#key-prev");
      await page.waitForFunction(() => document.querySelectorAll("#key-list button").length === 20);
      await page.$eval("#key-prefix", (el) => ((el as HTMLInputElement).value = ""));

      // The key written over memcached shows in the browser, with its flags.
      await page.type("#key-prefix", "dash:");
      await page.click("#key-search button[type=submit]");
      const button = await page.waitForSelector("#key-list button ::-p-text(dash:alpha)");
      await button!.click();
      await page.waitForFunction(() => !document.getElementById("key-detail")!.hidden);
      assert.equal(await text(page, "#detail-flags"), "5");
      assert.match(await text(page, "#detail-value"), /^value\d$/);
      await page.click('input[name=view][value="hex"]');
      assert.match(await text(page, "#detail-value"), /^00000000 {2}76 61 6c 75 65/);
      await page.click('input[name=view][value="text"]');

      // An edit made in the browser is what a memcached client reads back.
      await page.$eval("#edit-value", (el) => ((el as HTMLTextAreaElement).value = ""));
      await page.type("#edit-value", '{"edited":"in the browser"}');
      await page.click("#edit-form button[type=submit]");
      await page.waitForFunction(
        () => /Saved dash:alpha/.test(document.getElementById("key-message")!.textContent ?? ""),
      );
      const edited = '{"edited":"in the browser"}';
      assert.equal(
        await mc.call("get dash:alpha\r\n", "END\r\n"),
        `VALUE dash:alpha 5 ${edited.length}\r\n${edited}\r\nEND\r\n`,
      );
      // A change made over memcached meanwhile moves the CAS: the browser's If-Match save fails.
      assert.equal(await mc.call("set dash:alpha 5 0 5\r\nnewer\r\n"), "STORED\r\n");
      await page.click("#edit-form button[type=submit]");
      await page.waitForFunction(
        () =>
          /changed since it was read/.test(
            document.getElementById("key-message")!.textContent ?? "",
          ),
      );
      assert.equal(
        await mc.call("get dash:alpha\r\n", "END\r\n"),
        "VALUE dash:alpha 5 5\r\nnewer\r\nEND\r\n",
      );
      assert.equal(await text(page, "#detail-value"), "newer");
      assert.equal(
        await mc.call(`set dash:alpha 5 0 ${edited.length}\r\n${edited}\r\n`),
        "STORED\r\n",
      );
      // Clicked inside the page: the list may re-render between finding the button and a click.
      await page.$eval("#key-list button", (b) => (b as HTMLElement).click());
      await page.waitForFunction(() =>
        /edited/.test(document.getElementById("detail-value")!.textContent ?? "")
      );
      await page.click('input[name=view][value="json"]');
      assert.match(await text(page, "#detail-value"), /"edited": "in the browser"/);

      // Created in the browser, read over memcached; deleted in the browser, gone there too.
      await page.type("#create-key", "dash:new");
      await page.type("#create-value", "fresh");
      await page.click("#create-form button[type=submit]");
      await page.waitForFunction(() =>
        /Created dash:new/.test(document.getElementById("key-message")!.textContent ?? "")
      );
      assert.equal(
        await mc.call("get dash:new\r\n", "END\r\n"),
        "VALUE dash:new 0 5\r\nfresh\r\nEND\r\n",
      );
      await page.click("#delete-key");
      await page.waitForFunction(() =>
        /Deleted dash:new/.test(document.getElementById("key-message")!.textContent ?? "")
      );
      assert.equal(await mc.call("get dash:new\r\n", "END\r\n"), "END\r\n");
      mc.conn.close();
      // The list re-renders after the delete: click inside the page until an item opens, so a
      // button replaced between finding and clicking it cannot fail the step.
      await page.waitForFunction(() => {
        document.querySelector<HTMLButtonElement>("#key-list button")?.click();
        return !document.getElementById("key-detail")!.hidden;
      }, { polling: 200 });

      await Deno.mkdir(OUT, { recursive: true });
      await page.screenshot({ path: `${OUT}dashboard-1280.png`, fullPage: true });
      // Width only: isMobile would reload the page and lose its state.
      await page.setViewport({ width: 375, height: 800 });
      await new Promise((r) => setTimeout(r, 1500));
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
      await page.screenshot({ path: `${OUT}dashboard-375.png`, fullPage: true });
      assert.ok(overflow <= 375, `the page is ${overflow} px wide at a 375 px viewport`);
      // Chromium logs the one refused save (412) as a failed load; nothing else may be logged.
      const others = errors.filter((e) => !/status of 412 .*\/keys\/dash%3Aalpha/.test(e));
      assert.deepEqual(others, []);
      assert.equal(errors.length, 1);
    });
    // The clean stop wrote the snapshot the persistence panel promised.
    assert.ok((await Deno.stat(snapshot)).size > 0);
    await Deno.remove(snapshot);
  },
});

Deno.test({
  name: "dashboard: asks for the token once, refuses a wrong one, never puts it in a URL",
  ignore: missing,
  async fn() {
    await withServer(["--http-token", "s3cret-token"], async (_server, base, browser) => {
      const { page, errors, urls } = await open(browser, 1280);
      await page.goto(base + "/", { waitUntil: "load" });
      await page.waitForSelector("#token-dialog[open]");
      assert.equal(await page.$eval("#token-error", (el) => (el as HTMLElement).hidden), true);

      await page.type("#token-input", "wrong-token");
      await page.click("#token-form button[type=submit]");
      await page.waitForFunction(() => !document.getElementById("token-error")!.hidden);
      assert.match(await text(page, "#token-error"), /refused/);
      await Deno.mkdir(OUT, { recursive: true });
      await page.screenshot({ path: `${OUT}dashboard-token.png` });

      await page.type("#token-input", "s3cret-token");
      await page.click("#token-form button[type=submit]");
      await page.waitForSelector("#live[data-state=live]", { timeout: 10_000 });
      assert.match(await text(page, "#auth-state"), /token accepted/);
      assert.equal(
        await page.$eval("#token-dialog", (el) => (el as HTMLDialogElement).open),
        false,
      );
      assert.equal(
        await page.evaluate(() => sessionStorage.getItem("memcached-http-token")),
        "s3cret-token",
      );

      // Kept for the tab: a reload asks nothing.
      await page.reload({ waitUntil: "load" });
      await page.waitForSelector("#live[data-state=live]", { timeout: 10_000 });
      assert.equal(
        await page.$eval("#token-dialog", (el) => (el as HTMLDialogElement).open),
        false,
      );

      assert.ok(urls.length > 5);
      for (const url of urls) {
        assert.ok(!url.includes("s3cret") && !url.includes("wrong-token"), url);
      }
      // Chromium logs each refused request; nothing else may be logged.
      const others = errors.filter((e) => !/status of 401 \(Unauthorized\)/.test(e));
      assert.deepEqual(others, []);
      assert.ok(errors.length >= 2, "the page met the 401s it should have");
    });
  },
});

Deno.test({
  name: "dashboard: the key browser lists on load, and a link opens the same view",
  ignore: missing,
  async fn() {
    await withServer([], async (server, base, browser) => {
      const mc = await RawClient.connect(server.port);
      for (let i = 0; i < 25; i++) {
        await mc.call(`set page:${String(i).padStart(2, "0")} ${i} 0 1\r\nx\r\n`);
      }
      await mc.call("set other 0 0 1\r\ny\r\n");
      mc.conn.close();
      const listed = (page: Page) =>
        page.$$eval("#key-list button", (bs) => bs.map((b) => b.textContent));

      // The first page of every key, before anything is pressed.
      const { page, errors } = await open(browser, 1280);
      await page.goto(base + "/", { waitUntil: "load" });
      await page.waitForFunction(() => document.querySelectorAll("#key-list button").length === 20);
      assert.equal((await listed(page))[0], "other");
      assert.equal(new URL(page.url()).hash, "", "loading the page puts nothing in the URL");

      // Prefix, page two, one item: all in the URL.
      await page.type("#key-prefix", "page:");
      await page.click("#key-search button[type=submit]");
      await page.waitForFunction(() =>
        document.querySelector("#key-list button")?.textContent === "page:00"
      );
      await page.click("#key-next");
      await page.waitForFunction(() => document.querySelectorAll("#key-list button").length === 5);
      await page.$$eval("#key-list li", (lis) => (lis[1].firstChild as HTMLElement).click());
      await page.waitForFunction(() =>
        document.getElementById("detail-key")?.textContent === "page:21"
      );
      const link = page.url();
      const hash = new URLSearchParams(new URL(link).hash.slice(1));
      assert.equal(hash.get("panel"), "keys");
      assert.equal(hash.get("prefix"), "page:");
      assert.equal(hash.get("key"), "page:21");

      // The link in another tab: the same prefix, page, item and panel.
      const other = await open(browser, 1280);
      await other.page.goto(link, { waitUntil: "load" });
      await other.page.waitForFunction(() =>
        document.getElementById("detail-key")?.textContent === "page:21"
      );
      assert.deepEqual(await listed(other.page), [
        "page:20",
        "page:21",
        "page:22",
        "page:23",
        "page:24",
      ]);
      assert.equal(
        await other.page.$eval("#key-prefix", (el) => (el as HTMLInputElement).value),
        "page:",
      );
      assert.equal(await text(other.page, "#detail-flags"), "21");
      assert.equal(await text(other.page, "#key-page"), "page 2");
      const top = await other.page.$eval("#keys-title", (el) => el.getBoundingClientRect().top);
      assert.ok(top >= -5 && top < 200, `the keys panel is scrolled to (its title at ${top} px)`);
      // Previous goes back to the first page of the prefix, as in the tab the link came from.
      await other.page.click("#key-prev");
      await other.page.waitForFunction(() =>
        document.querySelector("#key-list button")?.textContent === "page:00"
      );
      assert.deepEqual([...errors, ...other.errors], []);
    });
  },
});
