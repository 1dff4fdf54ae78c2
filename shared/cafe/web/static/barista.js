// The barista page: the queue oldest first, transitions, store open/close and cap, sold-out.
import { api, follow, orderEtag, poll } from "./api.js";
import { local, money, t } from "./i18n.js";
import { announce, errorText, h, holdBusy, initChrome, minutesSince } from "./ui.js";
import { requireToken } from "./staff.js";

const COLUMNS = ["PLACED", "PREPARING", "READY"];
const NEXT = {
  PLACED: [{ status: "PREPARING", label: "act.start", primary: true }, { status: "CANCELLED", label: "act.cancel" }],
  PREPARING: [{ status: "READY", label: "act.ready", primary: true }, { status: "CANCELLED", label: "act.cancel" }],
  READY: [{ status: "COMPLETED", label: "act.complete", primary: true }],
};
const POLL_MS = 3000;
// The API's most per call: every waiting order is on screen, not just the oldest 100.
const LIMIT = 500;
const LATE_MIN = 10;

const $ = (id) => document.getElementById(id);

let token = null;
let session = null;
let queue = { PLACED: [], PREPARING: [], READY: [] };
let signature = "";
let store = null;
let menu = null;
let focusAfter = null; // order id whose next action gets focus after a re-render
let stopPolling = null;
const busy = new Set();

function authFailed(err) {
  // A locked-out client is signed out too: polling on would only prolong the refusals.
  if (err && (err.status === 401 || err.status === 403 || err.code === "staff_locked_out")) {
    stopPolling?.();
    session.signOut(errorText(err));
    return true;
  }
  return false;
}

async function refresh() {
  try {
    const results = await Promise.all(
      COLUMNS.map((s) => api(`/orders?status=${s}&limit=${LIMIT}`, { token }).then((r) => r.data.orders)),
    );
    showQueue(Object.fromEntries(COLUMNS.map((s, i) => [s, results[i]])));
  } catch (err) {
    if (!authFailed(err)) console.warn(err);
  }
  loadStore();
}

function showQueue(next) {
  const sig = JSON.stringify(COLUMNS.map((s) => next[s].map((o) => `${o.id}:${o.version}`)));
  queue = next;
  if (sig !== signature) {
    signature = sig;
    renderQueue();
  } else {
    renderWaits();
  }
}

/** A pushed queue message: the orders of the three columns (oldest first) and GET /store. */
function onQueueMessage(message) {
  if (message.type !== "queue") return;
  const next = Object.fromEntries(COLUMNS.map((s) => [s, []]));
  for (const order of message.queue.orders) next[order.status]?.push(order);
  showQueue(next);
  store = message.store;
  renderStore();
}

function summary(line) {
  const item = menu?.items.find((i) => i.id === line.item_id);
  const extras = item
    ? item.options
        .filter((o) => line.options[o.name] !== undefined && line.options[o.name] !== o.default)
        .map((o) => local(o.choices.find((c) => c.value === line.options[o.name])?.name) || line.options[o.name])
    : Object.values(line.options);
  return `${line.quantity} × ${local(line.name)}${extras.length ? ` (${extras.join(", ")})` : ""}`;
}

function waitText(order) {
  const min = minutesSince(order.created_at);
  return min < 1 ? t("queue.waiting.now") : t("queue.waiting", { min });
}

function renderWaits() {
  for (const el of document.querySelectorAll(".order-wait")) {
    const min = minutesSince(el.dataset.since);
    el.textContent = min < 1 ? t("queue.waiting.now") : t("queue.waiting", { min });
    el.classList.toggle("late", min >= LATE_MIN);
  }
}

function renderQueue() {
  for (const status of COLUMNS) {
    const orders = queue[status];
    $(`q-${status}-n`).textContent = String(orders.length);
    const list = $(`q-${status}`);
    if (orders.length === 0) {
      list.replaceChildren(h("li", { class: "empty" }, t("queue.empty")));
      continue;
    }
    list.replaceChildren(
      ...orders.map((order) => {
        const hid = `o-${order.id}`;
        return h(
          "li",
          { class: `order status-${status}`, dataset: { order: order.id, number: order.number }, "aria-labelledby": hid },
          h(
            "div",
            { class: "order-head" },
            h("span", { class: "order-number", id: hid }, `#${order.number}`),
            h("span", { class: "order-wait", dataset: { since: order.created_at } }, waitText(order)),
          ),
          h("strong", {}, order.customer),
          h("ul", {}, order.items.map((line) => h("li", {}, summary(line)))),
          h("p", { class: "muted" }, money(order.total, order.currency)),
          h(
            "div",
            { class: "order-actions" },
            NEXT[status].map((a) =>
              h(
                "button",
                {
                  type: "button",
                  class: a.primary ? "primary" : "danger",
                  disabled: busy.has(order.id),
                  "aria-describedby": hid,
                  dataset: { to: a.status },
                  onclick: () => advance(order, a.status),
                },
                t(a.label),
              ),
            ),
          ),
        );
      }),
    );
  }
  renderWaits();
  if (focusAfter) {
    const target = document.querySelector(`[data-order="${CSS.escape(focusAfter)}"] button.primary`);
    focusAfter = null;
    if (target) target.focus();
  }
}

async function advance(order, status) {
  if (busy.has(order.id)) return;
  busy.add(order.id);
  // Read focus before disabling: a disabled button loses focus in current Chromium.
  const hadFocus = document.activeElement?.closest?.(`[data-order="${CSS.escape(order.id)}"]`);
  for (const b of document.querySelectorAll(`[data-order="${CSS.escape(order.id)}"] button`)) b.disabled = true;
  try {
    // If-Match: only from the version on screen, so a retry after a lost answer is answered,
    // not refused, and a change someone else made first is not overwritten.
    await api(`/orders/${encodeURIComponent(order.id)}/status`, {
      method: "POST",
      token,
      body: { status },
      ifMatch: orderEtag(order),
    });
    announce(t("act.done", { number: order.number, status: t(`status.${status}`) }));
    if (hadFocus) focusAfter = order.id;
  } catch (err) {
    if (authFailed(err)) return;
    announce(`#${order.number}: ${errorText(err)}`, { error: true });
  } finally {
    busy.delete(order.id);
  }
  signature = "";
  await refresh();
  if (hadFocus && document.activeElement === document.body) $(`q-${order.status}-h`)?.focus();
}

// ---- store ---------------------------------------------------------------------------------

async function loadStore() {
  try {
    const { data } = await api("/store", { token });
    store = data;
    renderStore();
  } catch (err) {
    authFailed(err);
  }
}

function renderStore() {
  if (!store) return;
  const pill = $("store-pill");
  pill.textContent = store.open ? t("store.open") : t("store.closed");
  pill.className = `pill ${store.open ? "open" : "closed"}`;
  $("store-toggle").textContent = store.open ? t("store.toggle.close") : t("store.toggle.open");
  $("store-toggle").className = store.open ? "danger" : "primary";
  $("store-waiting").textContent = t("store.waiting", { waiting: store.waiting ?? "—", max: store.max_waiting });
  const cap = $("cap");
  if (document.activeElement !== cap && !cap.dataset.dirty) cap.value = String(store.max_waiting);
}

async function putStore(change) {
  const err = $("store-error");
  err.hidden = true;
  try {
    const { data } = await api("/store", {
      method: "PUT",
      token,
      body: { open: store.open, max_waiting: store.max_waiting, ...change },
    });
    store = { ...store, ...data };
    renderStore();
    announce(t("store.saved"));
    return true;
  } catch (e) {
    if (authFailed(e)) return false;
    err.textContent = errorText(e);
    err.hidden = false;
    return false;
  }
}

// ---- availability ----------------------------------------------------------------------------

async function loadMenu() {
  try {
    const { data } = await api("/menu");
    menu = data;
    renderAvail();
    signature = "";
    renderQueue();
  } catch (err) {
    console.warn(err);
  }
}

function renderAvail() {
  if (!menu) return;
  $("avail").replaceChildren(
    ...menu.items.map((item) =>
      h(
        "li",
        {},
        h(
          "label",
          {},
          h("input", {
            type: "checkbox",
            checked: item.available,
            dataset: { item: item.id },
            onchange: (ev) => setAvailable(item, ev.target),
          }),
          h("span", {}, local(item.name)),
          item.available ? null : h("span", { class: "badge" }, t("menu.soldout")),
        ),
      ),
    ),
  );
}

async function setAvailable(item, box) {
  const wanted = box.checked;
  const release = holdBusy(box);
  try {
    await api(`/menu/${encodeURIComponent(item.id)}`, { method: "PATCH", token, body: { available: wanted } });
    item.available = wanted;
    announce(`${local(item.name)}: ${wanted ? t("avail.label") : t("menu.soldout")}`);
  } catch (err) {
    box.checked = !wanted;
    if (!authFailed(err)) announce(errorText(err), { error: true });
  } finally {
    release();
    const badge = box.parentElement.querySelector(".badge");
    if (item.available && badge) badge.remove();
    if (!item.available && !badge) box.parentElement.append(h("span", { class: "badge" }, t("menu.soldout")));
  }
}

// ---- start -----------------------------------------------------------------------------------

function start(tok) {
  token = tok;
  signature = "";
  stopPolling?.();
  // Pushed where the runtime pushes (GET /live), else polled (the same shapes either way).
  stopPolling = follow({
    query: "channel=queue",
    token,
    refresh,
    startPolling: () => poll(refresh, POLL_MS),
    onMessage: onQueueMessage,
    onRefused: authFailed,
  });
  loadMenu();
}

function main() {
  initChrome();
  $("store-toggle").addEventListener("click", async (ev) => {
    if (!store) return;
    const release = holdBusy(ev.currentTarget);
    await putStore({ open: !store.open });
    release();
  });
  $("cap").addEventListener("input", (ev) => {
    ev.target.dataset.dirty = "1";
  });
  $("cap-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const cap = $("cap");
    const value = Number.parseInt(cap.value, 10);
    if (!Number.isFinite(value) || value < 1 || value > 1000) {
      cap.setAttribute("aria-invalid", "true");
      cap.focus();
      return;
    }
    cap.removeAttribute("aria-invalid");
    if (await putStore({ max_waiting: value })) delete cap.dataset.dirty;
  });
  $("signout").addEventListener("click", () => {
    stopPolling?.();
    session.signOut();
  });
  document.addEventListener("cafe:lang", () => {
    signature = "";
    renderQueue();
    renderStore();
    renderAvail();
  });
  setInterval(renderWaits, 15000);
  session = requireToken(start);
}

main();
