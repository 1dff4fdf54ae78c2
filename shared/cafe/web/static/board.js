// The pickup board: big PREPARING and READY numbers for a screen in the shop, refreshed by itself.
// It reads the public /pickup feed (numbers only, no names), so the shop's screen needs no staff
// token; between changes each poll is an empty 304.
import { api, follow, poll } from "./api.js";
import { locale, t } from "./i18n.js";
import { announce, h, initChrome } from "./ui.js";

const POLL_MS = 3000;
const $ = (id) => document.getElementById(id);

let board = { preparing: [], ready: [] };
let etag = null;
let seenReady = null; // numbers already shown as ready (null until the first answer)

function renderList(el, numbers, fresh = new Set()) {
  if (numbers.length === 0) {
    el.replaceChildren(h("li", { class: "none", "aria-label": t("queue.empty") }, t("board.none")));
    return;
  }
  el.replaceChildren(...numbers.map((n) => h("li", { class: fresh.has(n) ? "fresh" : null }, String(n))));
}

function render(fresh) {
  renderList($("b-preparing"), board.preparing);
  renderList($("b-ready"), board.ready, fresh);
}

async function refresh() {
  // A failed call throws to poll(), which retries; the footer and offline banner show it.
  const answer = await api("/pickup", { etag });
  if (answer.status === 304 || !answer.data) return;
  etag = answer.etag;
  show(answer.data);
}

function show(next) {
  board = next;
  const fresh = new Set(seenReady === null ? [] : board.ready.filter((n) => !seenReady.has(n)));
  seenReady = new Set(board.ready);
  render(fresh);
  for (const n of fresh) announce(t("track.announce", { number: n, status: t("status.READY") }));
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
  render(new Set());
  // Pushed where the runtime pushes (GET /live), else polled: the same GET /pickup shape.
  follow({
    query: "channel=board",
    refresh,
    startPolling: () => poll(refresh, POLL_MS),
    onMessage: (message) => {
      if (message.type !== "board") return;
      etag = null; // the next poll (if the stream drops) fetches the board in full
      show(message.board);
    },
  });
}

main();
