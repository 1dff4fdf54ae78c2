"""One browser tab on Playwright's clock, with every request it makes recorded.

The context's clock is installed and paused: page time moves only when the driver runs it, in
steps of ``STEP_MS`` (every interval of the pages is a multiple of it, so a timer fires exactly at
a step's end). After each step the driver waits until the page is quiet — no request in flight,
every ``fetch`` the page started seen by Playwright and its answer read — before time moves on, so
a poll's next timer is set at the page time its answer arrived, as in a real browser on a fast
network (the census's intervals exclude the round trip itself).

A small init script stamps each ``fetch`` the page starts with the page clock's ``Date.now()``
(the request times the intervals come from) and tells the driver when answers are still being
read. It changes no request: counting is Playwright's ``request``/``response`` events, checked
against the server's own log.

A live stream (``GET /events``, where the page follows the café by push) stays open for as long as
the page follows: it is never "in flight" for the quiet check, and its opening and closing are
recorded in page time (how long a page holds its connection).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, BrowserContext, Page, Request, Response

from compare.census.routes import STREAM_ROUTE, route_key
from compare.census.server import Answered, Pushed, ServerLog

STEP_MS = 500
# A Monday morning in the café's time zone: the page clock's start.
START = datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Asia/Seoul"))
_BASE = START + timedelta(seconds=1)
_BASE_MS = int(_BASE.timestamp() * 1000)
QUIET_TIMEOUT_S = 20.0

PROBE = """
(() => {
  const log = [];
  let pending = 0;
  const realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    const method = String((init && init.method) || "GET").toUpperCase();
    log.push([Date.now(), method, String(input instanceof Request ? input.url : input)]);
    const accept = String((init && init.headers && init.headers.Accept) || "");
    if (accept.includes("text/event-stream")) return realFetch(input, init); // held open: never quiet
    pending += 1;
    return realFetch(input, init).then(
      (res) => {
        if (res.status === 304) {
          pending -= 1;
          return res;
        }
        const text = res.text.bind(res);
        res.text = () => text().finally(() => { pending -= 1; });
        return res;
      },
      (err) => {
        pending -= 1;
        throw err;
      },
    );
  };
  Object.defineProperty(window, "__census", {
    value: { since: (i) => [pending, log.length, log.slice(i)] },
  });
})();
"""

_VISIBILITY = """(hidden) => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  Object.defineProperty(document, "visibilityState", {
    configurable: true, get: () => (hidden ? "hidden" : "visible"),
  });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


class CensusError(RuntimeError):
    """The census could not count something it must: it refuses to write a wrong figure."""


@dataclass(frozen=True)
class Seen:
    """One request a page made, as Playwright saw it."""

    phase: str
    window: int  # the n-th unbroken stretch of one phase in this scenario
    route: str
    at_ms: int  # page time since the scenario began (the end of the step it was made in)
    resource_type: str


@dataclass(frozen=True)
class Fetched:
    """One ``fetch`` the page started, stamped with the page clock."""

    phase: str
    window: int
    route: str
    at_ms: int


@dataclass
class Held:
    """One live stream the page opened: when (page time since the scenario began) and until when
    (None: still open when the scenario ended)."""

    phase: str
    opened_ms: int
    closed_ms: int | None = None


@dataclass
class Recording:
    """Everything one scenario's tab did."""

    name: str
    start_ms: int
    seen: list[Seen] = field(default_factory=list)
    fetched: list[Fetched] = field(default_factory=list)
    answered: list[Answered] = field(default_factory=list)
    pushed: list[Pushed] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    phase_ms: Counter[str] = field(default_factory=Counter)
    page_ms: int = 0


class Tab:
    """A page in its own browser context, its clock paused until the driver runs it."""

    def __init__(self, browser: Browser, base_url: str, log: ServerLog, viewport: dict[str, int]) -> None:
        self.base_url = base_url
        self.log = log
        self.context: BrowserContext = browser.new_context(
            viewport=cast(Any, viewport),
            locale="en-US",
            timezone_id="Asia/Seoul",
            service_workers="block",
        )
        self.context.set_default_timeout(15_000)
        self.context.add_init_script(PROBE)
        self.context.clock.install(time=START)
        self.context.clock.pause_at(_BASE)
        self.page: Page = self.context.new_page()
        self.now_ms = 0  # page time since the clock was paused
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("request", self._on_request)
        self.page.on("requestfinished", self._on_done)
        self.page.on("requestfailed", self._on_failed)
        self.page.on("response", self._on_response)
        self._inflight = 0
        self._answered: set[Request] = set()
        self._streams: dict[Request, Held] = {}
        self._fetches_seen = 0
        self._fetches_read = 0
        self._phase = "idle"
        self._window = 0
        self.rec = Recording("idle", 0)

    # ---- recording ---------------------------------------------------------------------------

    def begin(self, name: str, phase: str) -> None:
        self.rec = Recording(name, self.now_ms)
        self.log.take()
        self._window = 0
        self._phase = ""
        self.phase(phase)

    def finish(self) -> Recording:
        self.quiet()
        self.phase("idle")
        rec, self.rec = self.rec, Recording("idle", self.now_ms)
        rec.page_ms = self.now_ms - rec.start_ms
        answered, pushed = self.log.take()
        rec.answered = [a for a in answered if a.phase != "idle"]
        rec.pushed = [p for p in pushed if p.phase != "idle"]
        # Streams still open belong to the page, not to the finished recording: their end (a later
        # navigation, the tab closing) must not be written into it.
        self._streams = {request: Held("idle", held.opened_ms) for request, held in self._streams.items()}
        if self.errors:
            raise CensusError(f"{rec.name}: {len(self.errors)} errors on the page, e.g. {self.errors[:3]}")
        return rec

    def phase(self, name: str) -> None:
        if name != self._phase:
            self._phase = name
            self._window += 1
            self.log.phase = name

    def _on_request(self, request: Request) -> None:
        route = route_key(request.method, request.url)
        if request.resource_type == "fetch":
            self._fetches_seen += 1
        if route == STREAM_ROUTE:
            held = Held(self._phase, self.now_ms - self.rec.start_ms)
            self._streams[request] = held
            if self._phase != "idle":
                self.rec.held.append(held)
        else:
            self._inflight += 1
        if self._phase != "idle":
            self.rec.seen.append(
                Seen(self._phase, self._window, route, self.now_ms - self.rec.start_ms, request.resource_type)
            )

    def _stream_ended(self, request: Request) -> bool:
        """A live stream closed (the page stopped following, or the tab closed): not an error."""
        held = self._streams.pop(request, None)
        if held is None:
            return False
        held.closed_ms = self.now_ms - self.rec.start_ms
        self._answered.discard(request)
        return True

    def _on_done(self, request: Request) -> None:
        if self._stream_ended(request):
            return
        self._inflight -= 1
        self._answered.discard(request)

    def _on_response(self, response: Response) -> None:
        self._answered.add(response.request)

    def _on_failed(self, request: Request) -> None:
        if self._stream_ended(request):
            return
        # Chromium ends a fetch answered 304 (If-None-Match sent by the page) as "aborted" once
        # the empty answer is handed over: answered, not failed.
        self._inflight -= 1
        if request in self._answered:
            self._answered.discard(request)
        else:
            self.errors.append(f"request failed: {request.method} {request.url} ({request.failure})")

    # ---- time and quiet ------------------------------------------------------------------------

    def quiet(self) -> int:
        """Wait (in real time) until the page is quiet; returns how many fetches it started."""
        deadline = time.monotonic() + QUIET_TIMEOUT_S
        started = 0
        while True:
            pending, total, new = self.page.evaluate("(i) => window.__census.since(i)", self._fetches_read)
            for stamp, method, url in new:
                self.rec.fetched.append(
                    Fetched(
                        self._phase,
                        self._window,
                        route_key(str(method), str(url)),
                        int(stamp) - _BASE_MS - self.rec.start_ms,
                    )
                )
            started += len(new)
            self._fetches_read = int(total)
            if pending == 0 and self._inflight == 0 and self._fetches_seen == total:
                return started
            if time.monotonic() > deadline:
                raise CensusError(
                    f"{self.rec.name}: the page did not go quiet (pending {pending}, in flight "
                    f"{self._inflight}, fetches {total} started / {self._fetches_seen} seen)"
                )
            self.page.wait_for_timeout(3)

    def run(self, ms: int) -> None:
        """Run the page clock for ``ms`` (a multiple of STEP_MS), quiet after every step."""
        if ms % STEP_MS:
            raise ValueError(f"run {ms} ms: not a multiple of {STEP_MS}")
        for _ in range(ms // STEP_MS):
            self.now_ms += STEP_MS
            self.rec.phase_ms[self._phase] += STEP_MS
            self.page.clock.run_for(STEP_MS)
            self.quiet()

    def run_to(self, at_ms: int) -> None:
        """Run the clock until ``at_ms`` of page time since the scenario began."""
        self.run(max(0, self.rec.start_ms + at_ms - self.now_ms))

    def run_until(self, done: str, *, limit_ms: int) -> None:
        """Run step by step until the page expression ``done`` is true (checked after each step)."""
        for _ in range(limit_ms // STEP_MS):
            self.now_ms += STEP_MS
            self.rec.phase_ms[self._phase] += STEP_MS
            self.page.clock.run_for(STEP_MS)
            self.quiet()
            # Every step, not only after a fetch: a pushed change arrives without one.
            if self.page.evaluate(done):
                return
        raise CensusError(f"{self.rec.name}: {done} not true within {limit_ms} ms of page time")

    @property
    def at_ms(self) -> int:
        return self.now_ms - self.rec.start_ms

    # ---- what a person does ------------------------------------------------------------------

    def open(self, path: str, ready: str) -> None:
        """Load a page and wait until the selector ``ready`` shows and the page is quiet."""
        self._inflight = 0
        self._fetches_seen = 0
        self._fetches_read = 0
        self.page.goto(self.base_url + path)
        self.page.locator(ready).first.wait_for(state="visible")
        self.quiet()

    def set_hidden(self, hidden: bool) -> None:
        """Emulate the tab being hidden or shown again (document.hidden + visibilitychange)."""
        self.page.evaluate(_VISIBILITY, hidden)
        self.quiet()

    def close(self) -> None:
        self.context.close()


def answered_counts(rec: Recording) -> Counter[tuple[str, str]]:
    return Counter((a.phase, a.route) for a in rec.answered)


def seen_counts(rec: Recording) -> Counter[tuple[str, str]]:
    return Counter((s.phase, s.route) for s in rec.seen)


def check_server_agrees(rec: Recording) -> None:
    """Every request the page made reached the server, and the server answered no other."""
    seen, answered = seen_counts(rec), answered_counts(rec)
    if seen != answered:
        raise CensusError(
            f"{rec.name}: the browser and the server disagree: browser only {dict(seen - answered)}, "
            f"server only {dict(answered - seen)}"
        )
