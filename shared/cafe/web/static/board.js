// The pickup board: big PREPARING and READY numbers for a screen in the shop, refreshed by itself.
import { api, poll } from "./api.js";
import { locale, t } from "./i18n.js";
import { announce, errorText, h, initChrome } from "./ui.js";
import { requireToken } from "./staff.js";

const POLL_MS = 3000;
// The API's most per call: every waiting order is on screen, not just the oldest 100.
const LIMIT = 500;
const $ = (id) => document.getElementById(id);

let token = null;
let session = null;
let stopPolling = null;
let lists = { PREPARING: [], READY: [] };
let seenReady = null; // numbers already shown as ready (null until the first answer)

function renderList(el, numbers, fresh = new Set()) {
  if (numbers.length === 0) {
    el.replaceChildren(h("li", { class: "none", "aria-label": t("queue.empty") }, t("board.none")));
    return;
  }
  el.replaceChildren(...numbers.map((n) => h("li", { class: fresh.has(n) ? "fresh" : null }, String(n))));
}

function render(fresh) {
  renderList($("b-preparing"), lists.PREPARING.map((o) => o.number));
  renderList($("b-ready"), lists.READY.map((o) => o.number), fresh);
}

async function refresh() {
  try {
    const [preparing, ready] = await Promise.all(
      ["PREPARING", "READY"].map((s) => api(`/orders?status=${s}&limit=${LIMIT}`, { token }).then((r) => r.data.orders)),
    );
    const prevSig = JSON.stringify([lists.PREPARING.map((o) => o.number), lists.READY.map((o) => o.number)]);
    lists = { PREPARING: preparing, READY: ready };
    const readyNumbers = ready.map((o) => o.number);
    const fresh = new Set(seenReady === null ? [] : readyNumbers.filter((n) => !seenReady.has(n)));
    seenReady = new Set(readyNumbers);
    const sig = JSON.stringify([preparing.map((o) => o.number), readyNumbers]);
    if (sig !== prevSig || fresh.size) render(fresh);
    for (const n of fresh) announce(t("track.announce", { number: n, status: t("status.READY") }));
  } catch (err) {
    if (err.status === 401 || err.status === 403) {
      stopPolling?.();
      session.signOut(errorText(err));
    }
  }
}

function tickClock() {
  const now = new Date();
  const el = $("clock");
  el.dateTime = now.toISOString();
  el.textContent = now.toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
}

function main() {
  initChrome();
  tickClock();
  setInterval(tickClock, 10000);
  document.addEventListener("cafe:lang", () => {
    tickClock();
    render(new Set());
  });
  session = requireToken((tok) => {
    token = tok;
    seenReady = null;
    stopPolling?.();
    stopPolling = poll(refresh, POLL_MS);
  });
}

main();
