// Shared page chrome: language switch, footer (runtime + last call time), offline banner,
// and the tiny DOM helpers the pages use.
import { api, onCall } from "./api.js";
import { apply, t, toggleLang } from "./i18n.js";

/** h("button", {class: "x", onclick}, "text", child) — attributes, then children. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/**
 * Disable controls while a call runs, without losing the keyboard user's place: current
 * Chromium moves focus to <body> when a focused control becomes disabled, so note who had
 * focus first and give it back when the controls come back. Returns the "done" function.
 */
export function holdBusy(...controls) {
  const focused = controls.find((c) => c && c === document.activeElement) ?? null;
  for (const c of controls) if (c) c.disabled = true;
  return function release({ refocus = true } = {}) {
    for (const c of controls) if (c) c.disabled = false;
    const lost = document.activeElement === null || document.activeElement === document.body;
    if (refocus && focused && focused.isConnected && lost) focused.focus();
  };
}

/** Say something to screen readers (and show it briefly) through the page's live region. */
export function announce(message, { error = false } = {}) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  region.classList.toggle("error", error);
  // A new text node after clearing makes screen readers read it again even when unchanged.
  requestAnimationFrame(() => {
    region.textContent = message;
  });
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => {
    region.textContent = "";
  }, 6000);
}
let announceTimer = null;

/** Human text for an ApiError: the café's own message for codes we know. */
export function errorText(err) {
  if (!err) return "";
  if (err.code === "network") return t("err.network");
  const known = `err.${err.code}`;
  const text = t(known);
  if (text !== known) return text;
  if (err.status === 401 || err.status === 403) return t("err.auth");
  return t("err.generic", { message: err.message });
}

function hidePathIds(path) {
  // Order ids are the customer's credential; the footer shows the route, not the id.
  return path.replace(/\/orders\/[^/?]+/, "/orders/{id}");
}

let health = null;

function renderFooter(last) {
  const rt = document.getElementById("runtime");
  const ver = document.getElementById("version");
  if (rt) {
    if (health === null) rt.textContent = t("footer.unknown");
    else if (health === false) rt.textContent = t("footer.unreachable");
    else {
      const key = `runtime.${health.runtime}`;
      const label = t(key);
      rt.textContent = label === key ? health.runtime : label;
      rt.dataset.runtime = health.runtime;
    }
  }
  if (ver) ver.textContent = health && health.version ? `v${health.version}` : "";
  const lc = document.getElementById("last-call");
  if (lc && last) {
    lc.textContent = `${last.method} ${hidePathIds(last.path)} · ${last.status || "—"} · ${Math.round(last.ms)} ms`;
    lc.dataset.ms = String(Math.round(last.ms));
  }
}

let lastCall = null;

async function refreshHealth() {
  try {
    const { data } = await api("/health");
    health = data;
  } catch {
    health = false;
  }
  renderFooter(lastCall);
}

function renderOnline() {
  const banner = document.getElementById("offline");
  if (banner) banner.hidden = navigator.onLine;
}

/** Wire the chrome every page shares. Call once per page. */
export function initChrome() {
  apply();
  document.getElementById("lang")?.addEventListener("click", toggleLang);
  document.addEventListener("cafe:lang", () => renderFooter(lastCall));
  document.addEventListener("cafe:livemode", () => {
    const el = document.getElementById("live-mode");
    if (el) el.textContent = t(el.dataset.i18n);
  });
  onCall((call) => {
    lastCall = call;
    const banner = document.getElementById("offline");
    if (banner) banner.hidden = call.status !== 0 && navigator.onLine;
    const busy = document.getElementById("busy");
    if (busy) {
      busy.hidden = !call.busy;
      if (call.busy) busy.textContent = t("busy", { seconds: Math.round(call.retryInMs / 1000) });
    }
    renderFooter(call);
  });
  window.addEventListener("online", () => {
    renderOnline();
    refreshHealth();
  });
  window.addEventListener("offline", renderOnline);
  renderOnline();
  renderFooter(null);
  refreshHealth();
  setInterval(refreshHealth, 60000);
}

/** Minutes since an ISO time, for "waiting 3 min". */
export function minutesSince(iso, now = Date.now()) {
  return Math.max(0, Math.floor((now - Date.parse(iso)) / 60000));
}
