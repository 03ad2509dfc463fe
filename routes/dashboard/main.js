// The dashboard's entry point: access first (token or open API), then the live stream, the
// panels and the key browser.
import { forgetToken, hasToken, initTokenForm, readStatsStream } from "./api.js";
import { createCharts } from "./charts.js";
import { applyView, initKeys } from "./keys.js";
import { showNow, showSettings, showSlabs, watchHotKeys, watchPersistence } from "./panels.js";
import { linkPanels } from "./view.js";

const byId = (id) => document.getElementById(id);
/** Longest wait between attempts to reopen a closed stream. */
const MAX_RETRY_MS = 10_000;

function setLive(state, text) {
  const badge = byId("live");
  badge.dataset.state = state;
  badge.textContent = text;
}

/** Reads the stats stream for as long as the page is open, reopening it when it ends. */
async function followStats(addEvent) {
  let previous = null;
  let wait = 1000;
  for (;;) {
    try {
      await readStatsStream((event) => {
        if (previous === null) setLive("live", "● live");
        addEvent(event);
        showNow(event, previous);
        showSlabs(event.slabs, event.stats);
        previous = event;
        wait = 1000;
      });
      setLive("down", "○ stream ended, reconnecting…");
    } catch (err) {
      setLive("down", `○ no stream (${err.message}), retrying…`);
    }
    previous = null;
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(MAX_RETRY_MS, wait * 2);
  }
}

async function start() {
  initTokenForm();
  byId("forget-token").addEventListener("click", () => {
    forgetToken();
    location.reload();
  });
  // The first call asks for the token when the server needs one.
  const settings = await showSettings();
  const open = settings.http_auth !== "yes";
  byId("auth-state").textContent = open
    ? "API open: this server has no --http-token, anyone who reaches it can use it"
    : "🔒 token accepted (kept in this tab only)";
  byId("auth-state").dataset.auth = open ? "open" : "token";
  byId("forget-token").hidden = open || !hasToken();
  followStats(createCharts(byId("charts")));
  linkPanels();
  // A link pasted into this tab (or a panel's # clicked) shows what it names.
  addEventListener("hashchange", () => applyView().catch(() => {}));
  await Promise.all([initKeys(), watchHotKeys(), watchPersistence()]);
}

start().catch((err) => {
  setLive("down", `○ error: ${err.message}`);
  throw err;
});
