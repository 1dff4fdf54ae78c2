// The one way every page talks to the café API: timing, errors, offline state, the footer.
// Paths are resolved against the folder above /static/, so the pages keep working when the
// API is mounted under a prefix (API Gateway's stage, e.g. /api/).

export const API_ROOT = new URL("../", import.meta.url);

/** An API answer that is not 2xx/304, or no answer at all (code "network"). */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

const listeners = new Set();
/** Called after every call with {method, path, status, ms, ok}. */
export function onCall(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** A v4 UUID; crypto.randomUUID only exists in secure contexts (plain-HTTP EC2 is not one). */
export function newKey() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** An order's ETag as the API sends it: the If-Match of a change made from this version. */
export function orderEtag(order) {
  return `"${order.id}.${order.version}"`;
}

/** How often a call answered 503 (the order book busy or unreachable) is sent again. */
export const BUSY_RETRIES = 3;
// Waits between those attempts when the answer says nothing (Retry-After is the server's word).
const BUSY_WAIT_MS = 5000;
const BUSY_WAIT_MAX_MS = 30000;

/**
 * Call the API. Returns {status, data, etag, ms}; data is null for 304 and empty bodies.
 * Throws ApiError for 4xx/5xx (with the server's {error:{code,message,details}}) and for
 * network failures (status 0, code "network").
 *
 * A 503 (the order book busy or not answering) is retried after the Retry-After it carries,
 * up to BUSY_RETRIES times, when sending again is safe: reads, a placement with its
 * Idempotency-Key (`key`), a status change with If-Match (`ifMatch`, the order's ETag) —
 * each answers as the first attempt would have. Listeners see {busy: true, retryInMs} meanwhile.
 */
export async function api(path, options = {}) {
  const method = options.method || "GET";
  const safe = method === "GET" || Boolean(options.key) || Boolean(options.ifMatch);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await send(path, options);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 503 || !safe || attempt >= BUSY_RETRIES) throw err;
      const retryInMs = Math.min(BUSY_WAIT_MAX_MS, (Number(err.retryAfter) || BUSY_WAIT_MS / 1000) * 1000);
      emit({ method, path, status: 503, ms: 0, ok: false, busy: true, retryInMs });
      await new Promise((resolve) => setTimeout(resolve, retryInMs));
    }
  }
}

async function send(path, { method = "GET", body, token, etag, key, ifMatch, timeoutMs = 10000 } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  if (etag) headers["If-None-Match"] = etag;
  if (ifMatch) headers["If-Match"] = ifMatch;
  if (key) headers["Idempotency-Key"] = key;
  const url = new URL(path.replace(/^\//, ""), API_ROOT);
  const started = performance.now();
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", // we do our own conditional requests (If-None-Match)
      signal: ctrl.signal,
    });
  } catch (err) {
    const ms = performance.now() - started;
    emit({ method, path, status: 0, ms, ok: false });
    throw new ApiError(0, "network", String(err && err.message ? err.message : err));
  } finally {
    clearTimeout(timer);
  }
  const text = res.status === 304 ? "" : await res.text();
  const ms = performance.now() - started;
  emit({ method, path, status: res.status, ms, ok: res.ok || res.status === 304 });
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok && res.status !== 304) {
    const e = (data && data.error) || {};
    const error = new ApiError(res.status, e.code || `http_${res.status}`, e.message || res.statusText, e.details);
    error.retryAfter = res.headers.get("Retry-After");
    throw error;
  }
  return { status: res.status, data, etag: res.headers.get("ETag"), ms };
}

function emit(call) {
  for (const fn of listeners) {
    try {
      fn(call);
    } catch (err) {
      console.error(err);
    }
  }
}

/** Poll fn every `everyMs` (slower while the tab is hidden); returns a stop function. */
export function poll(fn, everyMs, hiddenMs = everyMs * 5) {
  let stopped = false;
  let inflight = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    inflight = true;
    try {
      await fn();
    } catch (err) {
      console.warn("poll", err);
    } finally {
      inflight = false;
    }
    if (!stopped) timer = setTimeout(tick, document.hidden ? hiddenMs : everyMs);
  };
  const wake = () => {
    if (!document.hidden && !stopped && !inflight) {
      clearTimeout(timer);
      tick();
    }
  };
  document.addEventListener("visibilitychange", wake);
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener("visibilitychange", wake);
  };
}
