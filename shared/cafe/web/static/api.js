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

// ---- live updates by push (GET /live, then server-sent events or a WebSocket; docs/live.md) ---

let liveInfo = null;
/** What GET /live answers, asked once per page: {transport: "sse" | "websocket", url} or
 * {transport: "none"}. A failed ask is not kept: it answers {transport: "none", failed: true}
 * and the next connection attempt asks again (a page loaded while /live failed still gets push). */
export function liveTransport() {
  if (!liveInfo) {
    liveInfo = api("/live")
      .then((r) => r.data || { transport: "none" })
      .catch(() => {
        liveInfo = null;
        return { transport: "none", failed: true };
      });
  }
  return liveInfo;
}

const RECONNECT_MS = 3000;
const RECONNECT_MAX_MS = 30000;
// API Gateway closes a WebSocket idle for 10 minutes: a ping well inside that keeps it open
// (each ping is a metered message both ways, so no more often than needed).
const WEBSOCKET_PING_MS = 5 * 60 * 1000;
// A connection that says nothing is treated as dropped (poll, then reconnect), or a server that
// never answers, a proxy that buffers the stream, or a dead network path would leave the page
// blank or saying "live" while nothing arrives. The first message (the current state) is due
// within CONNECT_WAIT_MS of starting to connect, as any call is (api()'s timeout); a WebSocket
// ping must be answered (a pong, or any message) within PONG_WAIT_MS. An open SSE stream gets no
// silence timer: the page's timers can run ahead of the server's heartbeats (a tab frozen and
// woken, a page clock run fast as the request census runs it), and would give up healthy streams.
const CONNECT_WAIT_MS = 10000;
const PONG_WAIT_MS = 30000;
// The HTTP statuses of a refused subscription: retrying would be refused again.
const REFUSED = [401, 403, 404, 429];

/** Show how this page is kept current in the footer: "live" or "refreshing every few seconds". */
function showMode(mode) {
  const el = document.getElementById("live-mode");
  if (!el) return;
  el.dataset.mode = mode;
  el.dataset.i18n = mode === "live" ? "live.on" : "live.polling";
  document.dispatchEvent(new CustomEvent("cafe:livemode", { detail: mode })); // ui.js words it
}

/** The WebSocket subscribe frame for a stream query ("order_id=…", "channel=board|queue"). */
function subscribeFrame(query, token) {
  const frame = { action: "subscribe" };
  for (const [name, value] of new URLSearchParams(query)) frame[name] = value;
  if (token && frame.channel === "queue") frame.token = token;
  return JSON.stringify(frame);
}

/**
 * Keep a view current: by push where GET /live offers it, else by polling (`startPolling()`
 * starts the page's own poll(refresh, interval) and returns its stop function). While the
 * stream is down the page polls, and it reconnects with a growing delay;
 * after each reconnect it resynchronises with one `refresh()` (the stream's first message is the
 * current state too). `onMessage` gets each pushed message (the GET endpoints' shapes);
 * `onRefused(err)` gets a refusal of the subscription itself (a 401/403/429 staff token, a 404
 * order), after which nothing more is tried. Two transports, one contract: server-sent events
 * (the container and the instance) read with fetch(), not EventSource, because the staff queue
 * needs the Authorization header, which EventSource cannot send; and API Gateway's WebSocket
 * API (Lambda), where the subscription is a message and the staff token travels in it.
 * Returns a stop function.
 */
export function follow({ query, token, onMessage, refresh, startPolling: pollNow, onRefused }) {
  let stopped = false;
  let stopPolling = null;
  let close = null; // ends the open stream or socket
  let retryTimer = null;
  let delay = RECONNECT_MS;
  let connectedBefore = false;

  const startPolling = () => {
    showMode("polling");
    if (!stopPolling && !stopped) stopPolling = pollNow();
  };
  const stopPollingNow = () => {
    stopPolling?.();
    stopPolling = null;
  };
  const retryLater = () => {
    if (stopped) return;
    startPolling();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, delay);
    delay = Math.min(RECONNECT_MAX_MS, delay * 2);
  };
  const refuse = (error) => {
    stopped = true;
    close?.();
    onRefused?.(error);
  };
  // The first message of a connection is the current state: from then on the page is live.
  const deliver = (message, first) => {
    if (first) {
      stopPollingNow();
      showMode("live");
      delay = RECONNECT_MS;
      if (connectedBefore) refresh().catch(() => {}); // resync once after a reconnect
      connectedBefore = true;
    }
    onMessage(message);
  };

  async function connect() {
    if (stopped) return;
    const info = await liveTransport();
    if (stopped) return;
    if (info.transport === "sse" && info.url && globalThis.ReadableStream) await readEvents(info.url);
    else if (info.transport === "websocket" && info.url && globalThis.WebSocket) openSocket(info.url);
    else if (info.failed) retryLater(); // /live itself failed: poll, and ask again later
    else startPolling();
  }

  async function readEvents(url) {
    const ctrl = new AbortController();
    close = () => ctrl.abort();
    // No current state in time: given up, as if the stream dropped.
    const quiet = setTimeout(() => ctrl.abort(), CONNECT_WAIT_MS);
    const headers = { Accept: "text/event-stream" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const started = performance.now();
    let res;
    try {
      res = await fetch(new URL(`${url.replace(/^\//, "")}?${query}`, API_ROOT), {
        headers,
        cache: "no-store",
        signal: ctrl.signal,
      });
    } catch {
      clearTimeout(quiet);
      retryLater();
      return;
    }
    if (!res.ok) {
      let data = null;
      try {
        data = await res.json();
      } catch {
        data = null;
      }
      clearTimeout(quiet);
      const e = (data && data.error) || {};
      const error = new ApiError(res.status, e.code || `http_${res.status}`, e.message, e.details);
      if (REFUSED.includes(res.status)) refuse(error);
      else retryLater();
      return;
    }
    // The footer shows this call: an order id is the customer's credential, never shown there.
    const shown = query.replace(/(^|&)order_id=[^&]*/, "$1order_id={id}");
    const ms = performance.now() - started;
    emit({ method: "GET", path: `/events?${shown}`, status: res.status, ms, ok: true, live: true });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let data = [];
    let first = true;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, end).replace(/\r$/, "");
          buffer = buffer.slice(end + 1);
          if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          else if (line === "" && data.length) {
            const message = JSON.parse(data.join("\n"));
            data = [];
            clearTimeout(quiet);
            deliver(message, first);
            first = false;
          }
        }
      }
    } catch {
      // the connection dropped, sent nothing in time, or we stopped: poll, and reconnect
    } finally {
      clearTimeout(quiet);
    }
    if (!stopped) retryLater();
  }

  function openSocket(url) {
    let socket;
    try {
      socket = new WebSocket(url);
    } catch {
      retryLater();
      return;
    }
    const started = performance.now();
    let first = true;
    let ended = false;
    let pinger = null;
    // No current state within CONNECT_WAIT_MS, or no answer to a ping: given up as dropped.
    let waiting = null;
    // This socket is finished, however it ended (closed by either side, or given up): poll and
    // reconnect later, once. A socket given up on is not waited for: its close may take minutes.
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(pinger);
      clearTimeout(waiting);
      socket.close(1000);
      if (!stopped) retryLater();
    };
    close = end;
    waiting = setTimeout(end, CONNECT_WAIT_MS);
    socket.addEventListener("open", () => {
      if (ended) return;
      const ms = performance.now() - started;
      emit({ method: "WS", path: "subscribe", status: 101, ms, ok: true, live: true });
      socket.send(subscribeFrame(query, token));
      pinger = setInterval(() => {
        socket.send('{"action":"ping"}');
        clearTimeout(waiting);
        waiting = setTimeout(end, PONG_WAIT_MS);
      }, WEBSOCKET_PING_MS);
    });
    socket.addEventListener("message", (event) => {
      if (ended) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // not ours: the contract sends one JSON object per frame
      }
      clearTimeout(waiting); // it answers
      if (message.type === "pong") return;
      if (message.type === "error") {
        const e = message.error || {};
        const status = message.status || 400;
        // Refused before any state arrived: the subscription itself was refused.
        if (!first) return; // a later message refused (a ping, say): the subscription stands
        if (REFUSED.includes(status)) refuse(new ApiError(status, e.code, e.message, e.details));
        else end(); // refused for now (the store, a limit): poll, then try again
        return;
      }
      deliver(message, first);
      first = false;
    });
    socket.addEventListener("close", end);
  }

  connect();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    close?.();
    stopPollingNow();
  };
}
