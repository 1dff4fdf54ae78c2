// The customer page: menu → basket → one idempotent order → live tracking.
import { ApiError, api, follow, newKey, orderEtag, poll } from "./api.js";
import { getLang, local, money, t } from "./i18n.js";
import { announce, errorText, h, holdBusy, initChrome } from "./ui.js";

const BASKET_KEY = "cafe.basket";
const RECENT_KEY = "cafe.recent";
const NAME_KEY = "cafe.customer";
const RECENT_MAX = 8;
const POLL_MS = 2500;
const STEPS = ["PLACED", "PREPARING", "READY", "COMPLETED"];
const FINAL = new Set(["COMPLETED", "CANCELLED"]);

const $ = (id) => document.getElementById(id);

let menu = null; // {currency, items}
let storeOpen = true;
let placing = false;
let tracking = null; // {id, order, etag, stop}
let basketInView = false; // the phone's basket bar hides while the basket itself is on screen

// ---- persistence -------------------------------------------------------------------------

function readJson(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(key));
    return v ?? fallback;
  } catch {
    return fallback;
  }
}

/**
 * The basket and its idempotency key. The key belongs to exactly this content: any change
 * drops it, so a retry of the same basket reuses it (never two orders) and a changed basket
 * gets a fresh one (the server refuses one key with two bodies).
 */
let basket = readJson(BASKET_KEY, { lines: [], key: null });
if (!Array.isArray(basket.lines)) basket = { lines: [], key: null };

function saveBasket() {
  localStorage.setItem(BASKET_KEY, JSON.stringify(basket));
}

function changeBasket(mutate) {
  mutate(basket.lines);
  basket.lines = basket.lines.filter((l) => l.quantity > 0);
  basket.key = null;
  saveBasket();
  renderBasket();
}

function recent() {
  const list = readJson(RECENT_KEY, []);
  return Array.isArray(list) ? list : [];
}

function remember(order) {
  const entry = {
    id: order.id,
    number: order.number,
    status: order.status,
    total: order.total,
    currency: order.currency,
    created_at: order.created_at,
  };
  const list = [entry, ...recent().filter((o) => o.id !== order.id)].slice(0, RECENT_MAX);
  localStorage.setItem(RECENT_KEY, JSON.stringify(list));
}

// ---- menu --------------------------------------------------------------------------------

function itemById(id) {
  return menu?.items.find((i) => i.id === id);
}

/** Unit price for an item with chosen options: the same rule as the server, for the estimate. */
function unitPrice(item, options) {
  let price = item.price;
  for (const opt of item.options) {
    const value = options[opt.name] ?? opt.default;
    const choice = opt.choices.find((c) => c.value === value);
    if (choice && opt.name in options) price += choice.surcharge;
  }
  return price;
}

function optionSummary(item, options) {
  if (!item) return "";
  return item.options
    .filter((opt) => (options[opt.name] ?? opt.default) !== opt.default)
    .map((opt) => local(opt.choices.find((c) => c.value === options[opt.name])?.name) || options[opt.name])
    .join(" · ");
}

function otherLang(name) {
  return getLang() === "ko" ? name.en : name.ko;
}

async function loadMenu() {
  try {
    const { data } = await api("/menu");
    menu = data;
    renderMenu();
    renderBasket();
    if (tracking?.order) renderOrder(tracking.order); // option names come from the menu
  } catch (err) {
    $("menu").replaceChildren(h("p", { class: "error", role: "alert" }, errorText(err)));
    setTimeout(loadMenu, 5000);
  }
}

async function loadStore() {
  try {
    const { data } = await api("/store");
    storeOpen = Boolean(data.open);
  } catch {
    storeOpen = true; // the order call will say if it is not
  }
  $("closed").hidden = storeOpen;
}

function renderMenu() {
  if (!menu) return;
  const box = $("menu");
  box.setAttribute("aria-busy", "false");
  const categories = [...new Set(menu.items.map((i) => i.category))];
  box.replaceChildren(
    ...categories.map((cat) => {
      const items = menu.items.filter((i) => i.category === cat);
      const hid = `cat-${cat}`;
      return h(
        "section",
        { class: "category", "aria-labelledby": hid },
        h("h2", { id: hid }, t(`cat.${cat}`)),
        h(
          "ul",
          { class: "items" },
          items.map((item) => {
            const name = local(item.name);
            return h(
              "li",
              { class: `item${item.available ? "" : " soldout"}`, dataset: { item: item.id } },
              h(
                "div",
                { class: "item-text" },
                h("h3", {}, name),
                h("p", { class: "muted alt-name", lang: getLang() === "ko" ? "en" : "ko" }, otherLang(item.name)),
                h(
                  "p",
                  { class: "price" },
                  money(item.price, menu.currency),
                  item.available ? null : h("span", { class: "badge" }, t("menu.soldout")),
                ),
              ),
              h(
                "button",
                {
                  type: "button",
                  class: "add",
                  disabled: !item.available,
                  "aria-label": item.available ? t("menu.add.label", { name }) : `${name} — ${t("menu.soldout")}`,
                  onclick: () => openOptions(item),
                },
                item.available ? t("menu.add") : t("menu.soldout"),
              ),
            );
          }),
        ),
      );
    }),
  );
}

// ---- options dialog ----------------------------------------------------------------------

let dialogItem = null;

function chosenOptions() {
  const out = {};
  for (const opt of dialogItem.options) {
    const checked = $("options-form").querySelector(`input[name="opt-${opt.name}"]:checked`);
    out[opt.name] = checked ? checked.value : opt.default;
  }
  return out;
}

function dialogQty() {
  const q = Number.parseInt($("opt-qty").value, 10);
  return Number.isFinite(q) ? Math.min(20, Math.max(1, q)) : 1;
}

function renderDialogPrice() {
  if (!dialogItem) return;
  const price = unitPrice(dialogItem, chosenOptions()) * dialogQty();
  $("opt-add").textContent = t("opt.add", { price: money(price, menu.currency) });
}

function openOptions(item) {
  dialogItem = item;
  $("opt-h").textContent = local(item.name);
  $("opt-sub").textContent = money(item.price, menu.currency);
  $("opt-qty").value = "1";
  $("opt-fields").replaceChildren(
    ...item.options.map((opt) =>
      h(
        "fieldset",
        { class: "choices" },
        h("legend", {}, local(opt.label)),
        opt.choices.map((c) => {
          const id = `opt-${opt.name}-${c.value}`;
          return h(
            "label",
            { class: "choice", for: id },
            h("input", {
              type: "radio",
              id,
              name: `opt-${opt.name}`,
              value: c.value,
              checked: c.value === opt.default,
              onchange: renderDialogPrice,
            }),
            h("span", {}, local(c.name)),
            c.surcharge ? h("small", { class: "muted" }, `+${money(c.surcharge, menu.currency)}`) : null,
          );
        }),
      ),
    ),
  );
  renderDialogPrice();
  $("options").showModal();
}

function addFromDialog() {
  const item = dialogItem;
  const options = chosenOptions();
  const quantity = dialogQty();
  changeBasket((lines) => {
    const same = lines.find((l) => l.item_id === item.id && JSON.stringify(l.options) === JSON.stringify(options));
    if (same) same.quantity = Math.min(20, same.quantity + quantity);
    else lines.push({ item_id: item.id, quantity, options });
  });
  announce(t("basket.added", { name: local(item.name) }));
}

function wireDialog() {
  const dlg = $("options");
  $("opt-less").addEventListener("click", () => {
    $("opt-qty").value = String(Math.max(1, dialogQty() - 1));
    renderDialogPrice();
  });
  $("opt-more").addEventListener("click", () => {
    $("opt-qty").value = String(Math.min(20, dialogQty() + 1));
    renderDialogPrice();
  });
  $("opt-qty").addEventListener("input", renderDialogPrice);
  $("opt-close").addEventListener("click", () => dlg.close("close"));
  $("options-form").addEventListener("submit", (ev) => {
    if (ev.submitter && ev.submitter.value === "add") addFromDialog();
  });
  dlg.addEventListener("click", (ev) => {
    if (ev.target === dlg) dlg.close("close"); // a tap on the backdrop
  });
}

// ---- basket ------------------------------------------------------------------------------

function estimate() {
  let total = 0;
  for (const line of basket.lines) {
    const item = itemById(line.item_id);
    if (item) total += unitPrice(item, line.options) * line.quantity;
  }
  return total;
}

function renderBasket() {
  const lines = basket.lines;
  const currency = menu?.currency || "KRW";
  $("basket-empty").hidden = lines.length > 0;
  $("checkout").hidden = lines.length === 0;
  $("basket-lines").replaceChildren(
    ...lines.map((line, index) => {
      const item = itemById(line.item_id);
      const name = item ? local(item.name) : line.item_id;
      const soldOut = item && !item.available;
      const qtyId = `qty-${index}`;
      return h(
        "li",
        { class: `line${soldOut ? " soldout" : ""}` },
        h(
          "div",
          { class: "line-text" },
          h("strong", {}, name),
          soldOut ? h("span", { class: "badge" }, t("menu.soldout")) : null,
          h("span", { class: "muted" }, optionSummary(item, line.options)),
        ),
        h(
          "div",
          { class: "line-controls" },
          h("label", { class: "sr-only", for: qtyId }, t("basket.qty.label", { name })),
          h("input", {
            id: qtyId,
            type: "number",
            inputmode: "numeric",
            min: 1,
            max: 20,
            value: line.quantity,
            class: "qty-input",
            onchange: (ev) => {
              const q = Math.min(20, Math.max(0, Number.parseInt(ev.target.value, 10) || 0));
              changeBasket((ls) => {
                ls[index].quantity = q;
              });
            },
          }),
          h("span", { class: "line-price" }, item ? money(unitPrice(item, line.options) * line.quantity, currency) : ""),
          h(
            "button",
            {
              type: "button",
              class: "link",
              "aria-label": t("basket.remove.label", { name }),
              onclick: () => {
                changeBasket((ls) => ls.splice(index, 1));
                $("basket-h").focus();
              },
            },
            t("basket.remove"),
          ),
        ),
      );
    }),
  );
  const total = estimate();
  const count = lines.reduce((n, l) => n + l.quantity, 0);
  $("estimate").textContent = `≈ ${money(total, currency)}`;
  $("basket-bar").hidden = lines.length === 0 || !$("track-view").hidden || basketInView;
  $("basket-bar-count").textContent = t("basket.count", { count });
  $("basket-bar-total").textContent = `≈ ${money(total, currency)}`;
  $("place").disabled = placing;
}

async function placeOrder(ev) {
  ev.preventDefault();
  if (placing || basket.lines.length === 0) return;
  const err = $("checkout-error");
  const customer = $("customer").value.trim();
  if (customer.length < 1 || customer.length > 40) {
    err.textContent = t("err.name");
    err.hidden = false;
    $("customer").setAttribute("aria-invalid", "true");
    $("customer").focus();
    return;
  }
  $("customer").removeAttribute("aria-invalid");
  localStorage.setItem(NAME_KEY, customer);
  if (!basket.key) {
    basket.key = newKey();
    saveBasket();
  }
  placing = true;
  err.hidden = true;
  const button = $("place");
  const release = holdBusy(button);
  button.textContent = t("basket.placing");
  $("checkout").setAttribute("aria-busy", "true");
  try {
    const body = { customer, items: basket.lines.map((l) => ({ item_id: l.item_id, quantity: l.quantity, options: l.options })) };
    const { data } = await api("/orders", { method: "POST", body, key: basket.key });
    remember(data);
    basket = { lines: [], key: null };
    saveBasket();
    renderBasket();
    location.hash = `order=${encodeURIComponent(data.id)}`;
  } catch (e) {
    err.textContent = errorText(e);
    err.hidden = false;
    if (e instanceof ApiError && e.code === "item_sold_out") loadMenu();
    if (e instanceof ApiError && (e.code === "store_closed" || e.code === "queue_full")) loadStore();
  } finally {
    placing = false;
    release();
    button.textContent = t("basket.place");
    $("checkout").setAttribute("aria-busy", "false");
  }
}

// ---- recent orders -----------------------------------------------------------------------

function renderRecent() {
  const list = recent();
  $("recent").hidden = list.length === 0;
  $("recent-list").replaceChildren(
    ...list.map((o) =>
      h(
        "li",
        {},
        h(
          "a",
          { href: `#order=${encodeURIComponent(o.id)}`, class: `recent-order status-${o.status}` },
          h("span", { class: "recent-number" }, `#${o.number}`),
          h("span", {}, t(`status.${o.status}`)),
          h("span", { class: "muted" }, money(o.total, o.currency)),
        ),
      ),
    ),
  );
}

// ---- tracking ----------------------------------------------------------------------------

function renderOrder(order) {
  const changed = tracking.order?.status !== order.status;
  tracking.order = order;
  $("t-number").textContent = String(order.number);
  $("t-customer").textContent = t("track.for", { customer: order.customer });
  const reached = new Map(order.history.map((h) => [h.status, h.at]));
  const current = order.status;
  const steps = current === "CANCELLED" ? [...STEPS.filter((s) => reached.has(s)), "CANCELLED"] : STEPS;
  const curIndex = steps.indexOf(current);
  $("t-steps").replaceChildren(
    ...steps.map((s, i) =>
      h(
        "li",
        {
          class: `step${i < curIndex ? " done" : ""}${i === curIndex ? " current" : ""} step-${s}`,
          "aria-current": i === curIndex ? "step" : null,
        },
        t(`status.${s}`),
      ),
    ),
  );
  if (changed) {
    // Only a real change touches the live region, so the status is announced once.
    $("t-status-name").textContent = t(`status.${current}`);
    $("t-status-help").textContent = t(`status.help.${current}`);
    $("t-status").dataset.status = current;
  }
  $("t-lines").replaceChildren(
    ...order.items.map((line) =>
      h(
        "li",
        { class: "line" },
        h(
          "div",
          { class: "line-text" },
          h("strong", {}, `${local(line.name)} × ${line.quantity}`),
          h("span", { class: "muted" }, optionSummary(itemById(line.item_id), line.options)),
        ),
        h("span", { class: "line-price" }, money(line.line_total, order.currency)),
      ),
    ),
  );
  $("t-total").textContent = money(order.total, order.currency);
  $("t-cancel-area").hidden = current !== "PLACED";
  if (current !== "PLACED") $("t-confirm").hidden = true;
  $("t-link").href = `#order=${encodeURIComponent(order.id)}`;
  remember(order);
}

function stopTracking() {
  if (tracking?.stop) tracking.stop();
  tracking = null;
}

function track(id) {
  stopTracking();
  tracking = { id, order: null, etag: null, stop: null };
  const mine = tracking;
  $("t-error").hidden = true;
  $("t-number").textContent = "…";
  $("t-status-name").textContent = "";
  $("t-status-help").textContent = "";
  $("t-cancel-area").hidden = true;
  $("t-steps").replaceChildren();
  $("t-lines").replaceChildren();
  $("t-total").textContent = "";
  const showError = (e) => {
    if (tracking !== mine) return;
    $("t-error").textContent = e.status === 404 ? t("track.notfound") : errorText(e);
    $("t-error").hidden = false;
    if (e.status === 404) mine.stop?.();
  };
  const show = (order) => {
    if (tracking !== mine) return;
    // Push and a resync (or a poll) can cross: an answer read before a pushed change may arrive
    // after it. An order's version only grows, so the highest one seen is the truth.
    if (mine.order && order.version < mine.order.version) return; // renderOrder keeps mine.order
    $("t-error").hidden = true;
    renderOrder(order);
    if (FINAL.has(order.status)) mine.stop?.();
  };
  // Pushed where the runtime pushes (GET /live), else polled; the stream's messages are the
  // very order GET /orders/{id} answers, so both paths render the same thing.
  const refresh = async () => {
    if (tracking !== mine) return;
    try {
      const res = await api(`/orders/${encodeURIComponent(id)}`, { etag: mine.etag });
      if (res.status !== 304 && res.data) {
        mine.etag = res.etag;
        show(res.data);
      }
    } catch (e) {
      showError(e);
    }
  };
  mine.stop = follow({
    query: `order_id=${encodeURIComponent(id)}`,
    refresh,
    startPolling: () => poll(refresh, POLL_MS),
    onMessage: (message) => {
      if (message.type !== "order") return;
      mine.etag = orderEtag(message.order);
      show(message.order);
    },
    onRefused: showError,
  });
}

async function cancelOrder() {
  if (!tracking?.order) return;
  const release = holdBusy($("t-cancel-yes"), $("t-cancel-no"));
  try {
    const { data } = await api(`/orders/${encodeURIComponent(tracking.order.id)}/cancel`, {
      method: "POST",
      ifMatch: orderEtag(tracking.order),
    });
    tracking.etag = null;
    renderOrder(data);
    tracking.stop?.();
    $("t-back").focus();
  } catch (e) {
    $("t-error").textContent = errorText(e);
    $("t-error").hidden = false;
  } finally {
    release({ refocus: false });
    const lost = document.activeElement === null || document.activeElement === document.body;
    $("t-confirm").hidden = true;
    // The confirm buttons are gone: a keyboard user lands on the cancel button again, by the error.
    if (lost) $("t-cancel").focus();
  }
}

// ---- views -------------------------------------------------------------------------------

function route() {
  const m = /^#order=([^&]+)/.exec(location.hash);
  if (m) {
    const id = decodeURIComponent(m[1]);
    $("menu-view").hidden = true;
    $("track-view").hidden = false;
    $("basket-bar").hidden = true;
    if (tracking?.id !== id) track(id);
    $("track-h").focus();
  } else {
    stopTracking();
    $("track-view").hidden = true;
    $("menu-view").hidden = false;
    renderRecent();
    renderBasket();
    loadStore();
  }
}

function rerender() {
  renderMenu();
  renderBasket();
  renderRecent();
  if (tracking?.order) {
    const order = tracking.order;
    tracking.order = null; // refresh the live-region text in the new language
    renderOrder(order);
  }
  if ($("options").open) renderDialogPrice();
}

function main() {
  initChrome();
  wireDialog();
  $("customer").value = localStorage.getItem(NAME_KEY) || "";
  $("customer").addEventListener("input", () => {
    if (basket.key) {
      basket.key = null; // the name is part of the body the key stands for
      saveBasket();
    }
  });
  $("checkout").addEventListener("submit", placeOrder);
  $("basket-bar").addEventListener("click", () => {
    $("basket").scrollIntoView({ behavior: "smooth", block: "start" });
    $("basket-h").focus({ preventScroll: true });
  });
  $("t-cancel").addEventListener("click", () => {
    $("t-confirm").hidden = false;
    $("t-cancel-no").focus();
  });
  $("t-cancel-no").addEventListener("click", () => {
    $("t-confirm").hidden = true;
    $("t-cancel").focus();
  });
  $("t-cancel-yes").addEventListener("click", cancelOrder);
  $("t-back").addEventListener("click", (ev) => {
    ev.preventDefault();
    history.pushState(null, "", location.pathname + location.search);
    route();
    $("menu-h").focus();
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("storage", (ev) => {
    if (ev.key === BASKET_KEY) {
      basket = readJson(BASKET_KEY, { lines: [], key: null });
      renderBasket();
    }
  });
  document.addEventListener("cafe:lang", rerender);
  if ("IntersectionObserver" in window) {
    new IntersectionObserver((entries) => {
      basketInView = entries.some((e) => e.isIntersecting);
      renderBasket();
    }).observe($("basket"));
  }
  renderBasket();
  route();
  loadMenu();
}

main();
