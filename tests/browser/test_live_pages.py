"""The pages by push on the three runtimes as deployed (issue 28, item 6).

The three real runtime processes (compare.local: the Lambda emulator with API Gateway's WebSocket
API and the stream poller, ``python -m fargate.serve``, gunicorn with the uvicorn workers) run on
one fresh SQLite file. On each, after the page has subscribed:

- a staff change reaches the tracking page and the board within 1 s, and the barista queue shows a
  new order placed elsewhere within 2 s, with no polling request meanwhile (counted over longer
  than the pages' longest polling interval) and the indicator saying "live";
- with the push endpoint blocked (``/events`` aborted; the WebSocket closed by
  ``page.route_web_socket``) or ``/live`` unanswered, the pages say "refreshing every few seconds"
  and still update, by polling;
- when the push connection drops (SSE: a relay between browser and server cuts the connection;
  WebSocket: the emulator closes it through ``DELETE @connections``, as API Gateway does after 2 h),
  the page polls, reconnects, and resynchronises with exactly one GET; a change made while it was
  disconnected appears;
- a push endpoint that never sends the current state, or a WebSocket whose ping goes unanswered,
  is given up as dropped (on Playwright's fake page clock, so api.js's waits cost no real time).

A WebSocket's frames are not HTTP requests, so "no polling" is counted on HTTP requests and the
transport is checked separately (one ``/events`` request, or one socket, per page). The café is
this module's own (``push_cafe``: the processes as ``make up`` starts them, on a SQLite file of its
own), so no other test's store settings or orders get in the way.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, Route, WebSocket, WebSocketRoute, expect

from compare.local.cafe import LocalCafe
from compare.local.processes import free_port
from compare.local.runtimes import RUNTIMES
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.pages import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.live]

STATIC = Path(__file__).resolve().parents[2] / "shared" / "cafe" / "web" / "static"
AMERICANO = {"customer": "Push Park", "items": [{"item_id": "americano", "quantity": 1}]}
TRANSPORT = {"fargate": "sse", "ec2": "sse", "lambda": "websocket"}
# Where "an order placed elsewhere" is placed: another runtime's endpoint (one order book).
ELSEWHERE = {"fargate": "ec2", "ec2": "lambda", "lambda": "fargate"}


def constant_ms(script: str, name: str) -> int:
    """A timing constant of a page script (``const NAME = 3000;`` or a product, ``5 * 60 * 1000``)."""
    found = re.search(rf"^const {name} = ([\d *]+);", (STATIC / script).read_text(), re.MULTILINE)
    assert found, f"no {name} in {script}"
    product = 1
    for factor in found.group(1).split("*"):
        product *= int(factor)
    return product


def poll_interval_s(page_script: str) -> float:
    """A page's polling interval, read from its script (``const POLL_MS = …``)."""
    return constant_ms(page_script, "POLL_MS") / 1000


TRACKING_POLL_S = poll_interval_s("customer.js")
RECONNECT_S = constant_ms("api.js", "RECONNECT_MS") / 1000  # the first reconnect after a drop
# "No polling meanwhile" is only shown by watching longer than every page's polling interval.
QUIET_S = max(poll_interval_s(name) for name in ("customer.js", "board.js", "barista.js")) + 0.5
# A change reaches a polling page with its next poll: within two intervals and the request, even
# on a loaded machine (the next poll is timed from the end of the last one).
POLLED_WITHIN_MS = (2 * max(poll_interval_s(name) for name in ("customer.js", "board.js")) + 2) * 1000
# A dropped page reconnects RECONNECT_S after the drop (and subscribes: a cold Lambda takes longer).
RECONNECTED_WITHIN_MS = (RECONNECT_S + 5) * 1000


# ---- the café ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushCafe:
    cafe: LocalCafe
    sqlite_path: Path

    @property
    def token(self) -> str:
        return self.cafe.staff_token

    def url(self, runtime: str) -> str:
        return self.cafe.urls[runtime]

    def staff(self, runtime: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url(runtime), headers=headers, timeout=10)

    def place(self, runtime: str) -> dict:
        answer = httpx.post(self.url(runtime) + "/orders", json=AMERICANO, timeout=10)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def advance(self, runtime: str, order_id: str, status: str) -> None:
        with self.staff(runtime) as staff:
            answer = staff.post(f"/orders/{order_id}/status", json={"status": status})
            assert answer.status_code == 200, answer.text

    def connections_of(self, channel: str) -> list[str]:
        """The API Gateway connection ids subscribed to `channel` (the Lambda side's table)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT connection_id FROM live_subscriptions WHERE channel = ?", (channel,))
            return [row[0] for row in rows]


@pytest.fixture(scope="module")
def push_cafe(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[PushCafe]:
    """The three runtimes as `make up` runs them, on a SQLite file of this module's own (so the
    store's state and the board are this module's alone)."""
    workdir = tmp_path_factory.mktemp("push-cafe")
    path = workdir / "cafe.sqlite3"
    token = secrets.token_urlsafe(24)
    env = {"CAFE_STORE": "sqlite", "CAFE_SQLITE_PATH": str(path), "CAFE_STAFF_TOKEN": token}
    cafe = LocalCafe(env=env, ports={runtime: free_port() for runtime in RUNTIMES}, log_dir=workdir / "logs")
    with cafe:
        push = PushCafe(cafe, path)
        with push.staff("ec2") as staff:
            assert staff.put("/store", json={"open": True, "max_waiting": 1000}).status_code == 200
        for runtime in RUNTIMES:
            live = httpx.get(push.url(runtime) + "/live", timeout=10).json()
            assert live["transport"] == TRANSPORT[runtime], (runtime, live)
        warm_up(push, browser)
        yield push


def warm_up(push: PushCafe, browser: Browser) -> None:
    """One push through each runtime before the timed tests. Lambda's first change after a
    start meets cold functions (the WebSocket handlers, the stream handler and its
    @connections client): a cold start, not the steady push delay that the 1 s is about."""
    context = browser.new_context()
    try:
        for runtime in RUNTIMES:
            order = push.place(runtime)
            page = context.new_page()
            page.goto(f"{push.url(runtime)}/#order={order['id']}")
            expect(page.locator("#live-mode")).to_have_attribute("data-mode", "live", timeout=30_000)
            push.advance(runtime, order["id"], "PREPARING")
            expect(page.locator("#t-status")).to_contain_text("Preparing", timeout=30_000)
            page.close()
    finally:
        context.close()


# ---- what the pages do ---------------------------------------------------------------------


def expect_mode(page: Page, mode: str, timeout: float | None = None) -> None:
    """The footer's indicator: "live" while pushed, "refreshing every few seconds" while polling."""
    words = {"live": "live", "polling": "refreshing every few seconds"}[mode]
    expect(page.locator("#live-mode")).to_have_attribute("data-mode", mode, timeout=timeout)
    expect(page.locator("#live-mode")).to_have_text(words)


def ms_left(started: float, budget_s: float) -> float:
    """What is left of `budget_s` since `started`, as an expect timeout (ms)."""
    return max(1.0, (started + budget_s - time.monotonic()) * 1000)


def board_number(board: Page, column: str, number: int):  # -> Locator
    return board.locator(f"#b-{column} li").filter(has_text=re.compile(rf"^{number}$"))


def queue_card(barista: Page, status: str, number: int):  # -> Locator
    return barista.locator(f'#q-{status} .order[data-number="{number}"]')


POLLED = re.compile(r"^/(orders/[^/]+|orders|pickup|store)$")


@dataclass
class Traffic:
    """What pages ask of the café: polling GETs (an order, the board, the queue, the store) and
    push subscriptions (``/events`` requests, WebSockets), per page; polls only once counting."""

    counting: bool = False
    polls: list[str] = field(default_factory=list)
    streams: dict[str, int] = field(default_factory=dict)

    def watch(self, page: Page, name: str) -> None:
        self.streams[name] = 0

        def request(req: Request) -> None:
            path = urlsplit(req.url).path
            if path == "/events":
                self.streams[name] += 1
            elif req.method == "GET" and POLLED.match(path) and self.counting:
                self.polls.append(f"{name}: GET {path}")

        def websocket(ws: WebSocket) -> None:
            self.streams[name] += 1

        page.on("request", request)
        page.on("websocket", websocket)

    def start(self) -> float:
        self.counting = True
        return time.monotonic()


def stay_quiet(page: Page, since: float, quiet_s: float = QUIET_S) -> None:
    """Let the pages run until `quiet_s` after `since`: longer than their polling interval, so a
    page that polled would have sent a request by then. (A wait that can only fail a test.)"""
    left = since + quiet_s - time.monotonic()
    if left > 0:
        page.wait_for_timeout(left * 1000)


def assert_one_subscription(traffic: Traffic) -> None:
    """Each page subscribed once and never reconnected."""
    assert set(traffic.streams.values()) == {1}, f"subscriptions per page: {traffic.streams}"


def block_push(page: Page, runtime: str) -> list[str]:
    """Make the page's push endpoint fail: ``/events`` aborted (SSE), or every WebSocket to /ws
    closed by Playwright's WebSocket route before it reaches the server. Returns the attempts."""
    attempts: list[str] = []
    if TRANSPORT[runtime] == "sse":

        def refuse(route: Route) -> None:
            attempts.append(route.request.url)
            route.abort()

        page.route(re.compile(r"/events\?"), refuse)
    else:

        def close(ws: WebSocketRoute) -> None:
            attempts.append(ws.url)
            ws.close(code=1011, reason="blocked by the test")

        page.route_web_socket(re.compile(r"/ws$"), close)
    return attempts


# ---- 1. tracking page and board: pushed within a second, no polling --------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_tracking_page_and_board_update_by_push_within_a_second(
    runtime: str, push_cafe: PushCafe, new_page: Callable[..., Page]
) -> None:
    url = push_cafe.url(runtime)
    order = push_cafe.place(runtime)
    number = order["number"]
    traffic = Traffic()
    tracker, board = new_page(PHONE), new_page(DESKTOP)
    traffic.watch(tracker, "tracking")
    traffic.watch(board, "board")
    board.goto(url + "/board")
    tracker.goto(f"{url}/#order={order['id']}")
    expect(tracker.locator("#t-number")).to_have_text(str(number))
    expect(tracker.locator("#t-status")).to_contain_text("Placed")
    expect_mode(tracker, "live")
    expect_mode(board, "live")
    since = traffic.start()

    for status, word, column in (("PREPARING", "Preparing", "preparing"), ("READY", "Ready", "ready")):
        started = time.monotonic()
        push_cafe.advance(runtime, order["id"], status)
        expect(tracker.locator("#t-status")).to_contain_text(word, timeout=ms_left(started, 1.0))
        expect(board_number(board, column, number)).to_be_visible(timeout=ms_left(started, 1.0))

    stay_quiet(tracker, since)
    assert traffic.polls == [], f"the pages polled while pushed: {traffic.polls}"
    assert_one_subscription(traffic)
    expect_mode(tracker, "live")
    expect_mode(board, "live")
    # The footer names the last call, never the order id (the customer's credential), which the
    # SSE subscription carries in its query.
    expect(tracker.locator("#last-call")).not_to_contain_text(order["id"])


# ---- 2. the barista queue: a new order placed elsewhere, pushed --------------------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_barista_queue_updates_by_push(
    runtime: str, push_cafe: PushCafe, new_page: Callable[..., Page]
) -> None:
    traffic = Traffic()
    barista = new_page(DESKTOP)
    traffic.watch(barista, "barista")
    sign_in(barista, push_cafe.url(runtime), "/barista", push_cafe.token)
    expect_mode(barista, "live")
    since = traffic.start()

    started = time.monotonic()
    order = push_cafe.place(ELSEWHERE[runtime])
    card = queue_card(barista, "PLACED", order["number"])
    expect(card).to_be_visible(timeout=ms_left(started, 2.0))
    expect(card).to_contain_text(AMERICANO["customer"])
    started = time.monotonic()
    push_cafe.advance(ELSEWHERE[runtime], order["id"], "PREPARING")
    expect(queue_card(barista, "PREPARING", order["number"])).to_be_visible(timeout=ms_left(started, 1.0))
    expect(queue_card(barista, "PLACED", order["number"])).to_have_count(0)

    stay_quiet(barista, since)
    assert traffic.polls == [], f"the barista page polled while pushed: {traffic.polls}"
    assert_one_subscription(traffic)
    expect_mode(barista, "live")


# ---- 3. push blocked, or /live unanswered: the pages poll and still update ---------------------


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_pages_fall_back_to_polling_when_push_is_blocked(
    runtime: str, push_cafe: PushCafe, new_page: Callable[..., Page]
) -> None:
    url = push_cafe.url(runtime)
    order = push_cafe.place(runtime)
    traffic = Traffic(counting=True)
    tracker, board = new_page(PHONE), new_page(DESKTOP)
    attempts = [block_push(page, runtime) for page in (tracker, board)]
    traffic.watch(tracker, "tracking")
    traffic.watch(board, "board")
    tracker.goto(f"{url}/#order={order['id']}")
    board.goto(url + "/board")
    expect(tracker.locator("#t-number")).to_have_text(str(order["number"]))
    expect_mode(tracker, "polling")
    expect_mode(board, "polling")
    assert all(attempts), "each page tried its push endpoint first"

    push_cafe.advance(runtime, order["id"], "PREPARING")
    expect(tracker.locator("#t-status")).to_contain_text("Preparing", timeout=POLLED_WITHIN_MS)
    expect(board_number(board, "preparing", order["number"])).to_be_visible(timeout=POLLED_WITHIN_MS)
    assert any(p.startswith("tracking: GET /orders/") for p in traffic.polls), traffic.polls
    assert "board: GET /pickup" in traffic.polls, traffic.polls
    expect_mode(tracker, "polling")


def test_pages_poll_when_live_is_unavailable(push_cafe: PushCafe, new_page: Callable[..., Page]) -> None:
    """No answer from GET /live: the page polls as before push existed, and asks /live again
    later, so once it answers the page is pushed (a failed ask is not kept for the page's life)."""
    runtime = "lambda"
    order = push_cafe.place(runtime)
    traffic = Traffic(counting=True)
    tracker = new_page(PHONE)
    failing = re.compile(r"/live$")
    tracker.route(failing, lambda route: route.abort())
    traffic.watch(tracker, "tracking")
    tracker.goto(f"{push_cafe.url(runtime)}/#order={order['id']}")
    expect(tracker.locator("#t-number")).to_have_text(str(order["number"]))
    expect_mode(tracker, "polling")
    push_cafe.advance(runtime, order["id"], "PREPARING")
    expect(tracker.locator("#t-status")).to_contain_text("Preparing", timeout=POLLED_WITHIN_MS)
    assert traffic.streams == {"tracking": 0}, "no subscription without /live"
    assert traffic.polls, "it polled"
    tracker.unroute(failing)
    expect_mode(tracker, "live", timeout=RECONNECTED_WITHIN_MS)  # the next attempt after the delay
    polled = len(traffic.polls)
    push_cafe.advance(runtime, order["id"], "READY")
    expect(tracker.locator("#t-status")).to_contain_text("Ready", timeout=1000)
    assert len(traffic.polls) <= polled + 1, "pushed, not polled (at most the resync GET)"


# ---- 4. the connection drops: poll, reconnect, resync with one GET -----------------------------


Pair = tuple[socket.socket, socket.socket]  # (browser side, server side)


class Relay:
    """A TCP relay between the browser and a runtime: ``drop()`` cuts every connection open at
    that moment, as a network change or a load balancer would; new connections go through."""

    def __init__(self, port: int) -> None:
        self.target = ("127.0.0.1", port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.open: set[Pair] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            pair = (client, upstream)
            with self.lock:
                self.open.add(pair)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink, pair), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, pair: Pair) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        self._cut(pair)

    def _cut(self, pair: Pair) -> None:
        with self.lock:
            self.open.discard(pair)
        for sock in pair:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def drop(self) -> int:
        """Cut every open connection; how many there were."""
        with self.lock:
            pairs = list(self.open)
        for pair in pairs:
            self._cut(pair)
        return len(pairs)

    def close(self) -> None:
        self.listener.close()
        self.drop()


@pytest.fixture
def relay() -> Iterator[Callable[[int], Relay]]:
    made: list[Relay] = []

    def make(port: int) -> Relay:
        made.append(Relay(port))
        return made[-1]

    yield make
    for each in made:
        each.close()


# In the page, in order: each indicator change and each fetch, so that "one GET after the
# reconnect" is read off the page's own sequence of events, not off arrival times.
PAGE_LOG = """
window.__liveLog = [];
document.addEventListener("cafe:livemode", (e) => window.__liveLog.push(`mode ${e.detail}`));
const pageFetch = window.fetch;
window.fetch = function (input, init) {
  const url = new URL(input instanceof Request ? input.url : input, location.href);
  window.__liveLog.push(`fetch ${url.pathname}`);
  return pageFetch.call(this, input, init);
};
"""


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_page_reconnects_and_resyncs_after_the_connection_drops(
    runtime: str, push_cafe: PushCafe, new_page: Callable[..., Page], relay: Callable[[int], Relay]
) -> None:
    order = push_cafe.place(runtime)
    order_path = f"/orders/{order['id']}"
    tracker = new_page(PHONE)
    tracker.add_init_script(PAGE_LOG)
    traffic = Traffic()
    traffic.watch(tracker, "tracking")
    # While the connection is down the page's polls fail too (the network is what dropped), so
    # the change made meanwhile can only reach it through the reconnect.
    down = threading.Event()
    refused: list[str] = []

    def order_get(route: Route) -> None:
        if down.is_set():
            refused.append(route.request.url)
            route.abort("internetdisconnected")
        else:
            route.fallback()

    def reconnecting(_: object) -> None:
        down.clear()

    tracker.route(re.compile(re.escape(order_path) + "$"), order_get)
    if TRANSPORT[runtime] == "sse":
        via = relay(push_cafe.cafe.ports[runtime])
        base = via.url
        tracker.on("request", lambda req: reconnecting(req) if urlsplit(req.url).path == "/events" else None)
    else:
        base = push_cafe.url(runtime)
        tracker.on("websocket", reconnecting)
    tracker.goto(f"{base}/#order={order['id']}")
    expect(tracker.locator("#t-status")).to_contain_text("Placed")
    expect_mode(tracker, "live")

    down.set()
    if TRANSPORT[runtime] == "sse":
        assert via.drop() >= 1
    else:
        # As API Gateway closes a connection (2 h, 10 min idle): through the @connections API.
        ids = push_cafe.connections_of(f"order#{order['id']}")
        assert len(ids) == 1, ids
        closed = httpx.delete(f"{base}/api/@connections/{ids[0]}", timeout=10)
        assert closed.status_code == 204
    expect_mode(tracker, "polling")
    push_cafe.advance(runtime, order["id"], "PREPARING")

    expect(tracker.locator("#t-status")).to_contain_text("Preparing", timeout=RECONNECTED_WITHIN_MS)
    expect_mode(tracker, "live")
    assert refused, "the page polled while disconnected"
    assert traffic.streams["tracking"] == 2, "one subscription, then one reconnect"
    stay_quiet(tracker, time.monotonic(), TRACKING_POLL_S + 0.5)
    log: list[str] = tracker.evaluate("window.__liveLog")
    last_live = len(log) - 1 - log[::-1].index("mode live")
    assert "mode polling" in log[:last_live], log
    after = [entry for entry in log[last_live + 1 :] if entry.startswith("fetch /orders/")]
    assert after == [f"fetch {order_path}"], f"one resync GET after the reconnect, then none: {log}"


# ---- 5. a connection that says nothing: given up as dropped, polled, reconnected ----------------
# The page's own clock is Playwright's fake one (it runs at real speed until told to jump), so the
# waits that api.js allows a silent connection (10 s for the first message, 5 min + 30 s for a
# WebSocket ping's answer) cost no real time.

CONNECT_WAIT_MS = constant_ms("api.js", "CONNECT_WAIT_MS")
PING_MS = constant_ms("api.js", "WEBSOCKET_PING_MS")
PONG_WAIT_MS = constant_ms("api.js", "PONG_WAIT_MS")


def wait_until(page: Page, condition: Callable[[], bool], timeout_s: float = 10) -> None:
    """Let the page run until `condition` holds (something the test's own handlers record)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the page"
        page.wait_for_timeout(50)


def mode_changes(page: Page) -> list[str]:
    return [entry for entry in page.evaluate("window.__liveLog") if entry.startswith("mode ")]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_page_polls_when_the_push_endpoint_never_answers(
    runtime: str, push_cafe: PushCafe, new_page: Callable[..., Page]
) -> None:
    """A push endpoint that accepts and then says nothing (a hung server, a proxy that buffers the
    stream): without its first message the page would show nothing at all, for ever."""
    order = push_cafe.place(runtime)
    tracker = new_page(PHONE)
    tracker.clock.install()
    hung: list[Route | WebSocketRoute] = []

    def hold(route: Route | WebSocketRoute) -> None:
        hung.append(route)  # never answered; a WebSocket route opens the page's socket, then nothing

    if TRANSPORT[runtime] == "sse":
        tracker.route(re.compile(r"/events\?"), hold)
    else:
        tracker.route_web_socket(re.compile(r"/ws$"), hold)
    tracker.goto(f"{push_cafe.url(runtime)}/#order={order['id']}")
    wait_until(tracker, lambda: bool(hung))
    expect(tracker.locator("#t-number")).to_have_text("…")  # nothing yet: no state, no polling

    tracker.clock.run_for(CONNECT_WAIT_MS + 100)
    expect_mode(tracker, "polling")
    expect(tracker.locator("#t-number")).to_have_text(str(order["number"]))
    push_cafe.advance(runtime, order["id"], "PREPARING")
    expect(tracker.locator("#t-status")).to_contain_text("Preparing", timeout=POLLED_WITHIN_MS)


@dataclass
class QuietSockets:
    """Every WebSocket of a page through Playwright's route to the real server; ``stall()``
    silences the open ones both ways, as a dead network path does, and keeps what the page sent."""

    open: list[list[bool]] = field(default_factory=list)  # one [stalled] flag per socket
    swallowed: list[str | bytes] = field(default_factory=list)

    def route(self, ws: WebSocketRoute) -> None:
        stalled = [False]
        self.open.append(stalled)
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            if stalled[0]:
                self.swallowed.append(message)
            else:
                server.send(message)

        def from_server(message: str | bytes) -> None:
            if not stalled[0]:
                ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    def stall(self) -> int:
        for flag in self.open:
            flag[0] = True
        return len(self.open)


def test_page_gives_up_a_socket_whose_ping_goes_unanswered(
    push_cafe: PushCafe, new_page: Callable[..., Page]
) -> None:
    """The WebSocket stays open but nothing crosses it any more (a dead network path: API Gateway
    never hears the ping, the page never hears a pong). The page must not keep saying "live".
    (An open SSE stream has no such timer: see api.js.)"""
    runtime = "lambda"
    order = push_cafe.place(runtime)
    tracker = new_page(PHONE)
    tracker.add_init_script(PAGE_LOG)
    tracker.clock.install()
    sockets = QuietSockets()
    tracker.route_web_socket(re.compile(r"/ws$"), sockets.route)
    tracker.goto(f"{push_cafe.url(runtime)}/#order={order['id']}")
    expect(tracker.locator("#t-status")).to_contain_text("Placed")
    expect_mode(tracker, "live")

    assert sockets.stall() == 1
    push_cafe.advance(runtime, order["id"], "PREPARING")  # it cannot arrive: the path is dead
    tracker.clock.run_for(PING_MS + PONG_WAIT_MS - 1000)
    assert sockets.swallowed == ['{"action":"ping"}'], sockets.swallowed
    expect_mode(tracker, "live")  # not given up yet
    expect(tracker.locator("#t-status")).to_contain_text("Placed")
    tracker.clock.run_for(1100)
    expect(tracker.locator("#t-status")).to_contain_text("Preparing", timeout=RECONNECTED_WITHIN_MS)
    expect_mode(tracker, "live")  # on a new socket
    assert mode_changes(tracker)[-3:] == ["mode live", "mode polling", "mode live"], mode_changes(tracker)
    assert len(sockets.open) == 2, "one socket given up, one new"
