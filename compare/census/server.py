"""The café the census drives: the EC2 runtime's app, in this process, on a memory store.

``ec2.app.application`` is what runs on an instance. The census serves it twice:

- **polling** (push unavailable): its WSGI side on wsgiref's threaded server, as the browser tests'
  ``page_cafe`` does. That side cannot hold a stream, so ``GET /live`` answers ``none`` and the
  pages fall back to polling;
- **push**: its ASGI side in uvicorn (what the instance's uvicorn workers serve), where ``GET
  /live`` answers ``sse`` and the pages follow the stream.

A wrapper logs every request the server answers (method, route, status), tagged with the phase
the driver is in, so the census can check the browser's count against what reached the server and
take each status as the server answered it (a revalidated static file is a 304 at the server even
where Chromium reports the cached copy to the page). On the push side it also counts every data
message the server writes to a page's stream, by channel.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx

from compare.census.routes import STREAM_ROUTE, route_key

POLLING = "polling"
PUSH = "push"
RUNTIMES = {
    POLLING: "ec2: ec2.app.application's WSGI side in-process on a threaded wsgiref server, memory "
    "store: GET /live answers none, so the pages poll (push unavailable)",
    PUSH: "ec2: ec2.app.application's ASGI side (what the instance's uvicorn workers serve) in "
    "uvicorn in-process, memory store: GET /live answers sse, so the pages follow the stream",
}
# The driver's own calls (placing orders, moving them along) carry this agent and are not counted.
DRIVER_AGENT = "census-driver"
# How long the server may take to hand a change to every stream (its hub reads the feed every
# 150 ms): far more than it needs, so a stuck hub stops the census instead of a wrong count.
SETTLE_TIMEOUT_S = 20.0
SETTLE_CHECK_S = 0.05


@dataclass(frozen=True)
class Answered:
    """One request the server answered for a page."""

    phase: str
    route: str  # "GET /orders/{order_id}"
    status: int


@dataclass(frozen=True)
class Pushed:
    """One data message the server wrote to a page's stream."""

    phase: str
    channel: str  # "order", "board" or "queue"


@dataclass
class ServerLog:
    """What the server answered to the pages, tagged with the phase the driver was in."""

    phase: str = "idle"
    answered: list[Answered] = field(default_factory=list)
    pushed: list[Pushed] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, status: int) -> None:
        with self.lock:
            self.answered.append(Answered(self.phase, route, status))

    def push(self, channel: str) -> None:
        with self.lock:
            self.pushed.append(Pushed(self.phase, channel))

    def pushed_count(self) -> int:
        with self.lock:
            return len(self.pushed)

    def take(self) -> tuple[list[Answered], list[Pushed]]:
        with self.lock:
            taken, self.answered = self.answered, []
            pushed, self.pushed = self.pushed, []
        return taken, pushed


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """The pages make thousands of requests: no access log."""


@dataclass(frozen=True)
class LocalCafe:
    url: str
    staff_token: str
    log: ServerLog
    mode: str  # POLLING or PUSH
    runtime: str  # what serves the pages (RUNTIMES)
    settle: Callable[[], None]  # returns once every change is on the pages' streams (push)
    sequence: Callable[[], int]  # the order book's latest change-feed sequence

    def driver(self, *, staff: bool) -> httpx.Client:
        """The script's own client (a customer's or, with ``staff``, the barista's token)."""
        headers = {"User-Agent": DRIVER_AGENT}
        if staff:
            headers["Authorization"] = f"Bearer {self.staff_token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
AsgiApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


def _logged(app: WsgiApp, log: ServerLog) -> WsgiApp:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def answer(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            if not str(environ.get("HTTP_USER_AGENT", "")).startswith(DRIVER_AGENT):
                route = route_key(environ["REQUEST_METHOD"], str(environ.get("PATH_INFO") or "/"))
                log.record(route, int(status[:3]))
            return start_response(status, headers, *rest)

        return app(environ, answer)

    return wrapped


def stream_channel(query_string: bytes) -> str:
    """The channel a stream request subscribes to: ``order`` (an order id), ``board`` or ``queue``."""
    query = parse_qs(query_string.decode("latin-1"))
    return "order" if "order_id" in query else query.get("channel", ["?"])[0]


def _logged_asgi(app: AsgiApp, log: ServerLog) -> AsgiApp:
    async def wrapped(
        scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
    ) -> None:
        headers = dict(scope.get("headers", ()))
        if scope["type"] != "http" or headers.get(b"user-agent", b"").startswith(DRIVER_AGENT.encode()):
            await app(scope, receive, send)
            return
        route = route_key(scope["method"], scope["path"])
        channel = stream_channel(scope["query_string"]) if route == STREAM_ROUTE else ""

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                log.record(route, int(message["status"]))
            elif channel and bytes(message.get("body", b"")).startswith(b"data: "):
                log.push(channel)  # a heartbeat is a comment line (": heartbeat"), not a message
            await send(message)

        await app(scope, receive, watched)

    return wrapped


def _wsgi_server(app: WsgiApp) -> tuple[str, Callable[[], None]]:
    server = make_server("127.0.0.1", 0, app, _ThreadingWSGIServer, _QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_port}", stop


def uvicorn_in_thread(app: AsgiApp) -> tuple[str, Callable[[], None]]:
    """An ASGI app in a uvicorn server on a loopback port, on its own thread and event loop (the
    census's push café, the push suite's runtimes): its URL and a function that stops it."""
    import uvicorn

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        loop="asyncio",
        http="httptools",
        interface="asgi3",
        lifespan="off",
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        thread.join(10)

    return f"http://127.0.0.1:{port}", stop


def _settler(api: Any, log: ServerLog) -> Callable[[], None]:
    """Wait until the process's live hub has read the whole feed and every stream has been
    written what it was owed (its cursor and its subscribers' queues)."""
    from cafe.live import hub as live_hub

    hub = live_hub.hub_for(api)  # made here, before the server's thread could race to make it
    store = api.service.store

    def drained() -> bool:
        if hub.subscribers == 0:
            return True
        return hub.cursor >= store.latest_sequence() and hub.written()

    def settle() -> None:
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        before = -1
        while True:
            # Twice in a row, the count unchanged between: a message taken from a queue is being
            # written when the check runs, so one look could come between the two.
            if drained():
                count = log.pushed_count()
                if count == before:
                    return
                before = count
            else:
                before = -1
            if time.monotonic() > deadline:
                raise RuntimeError("the live hub did not deliver the feed within the settle timeout")
            time.sleep(SETTLE_CHECK_S)

    return settle


@contextmanager
def local_cafe(mode: str = POLLING) -> Iterator[LocalCafe]:
    """Serve the EC2 runtime's app (WSGI side for polling, ASGI side for push) on a private memory
    store until the block ends."""
    if mode not in RUNTIMES:
        raise ValueError(f"mode must be one of {sorted(RUNTIMES)}, not {mode!r}")
    # ec2.app builds a café from the environment when imported; keep that one off the shared
    # SQLite file (make exports CAFE_STORE=sqlite), then point the adapter at our own.
    saved = os.environ.get("CAFE_STORE")
    os.environ["CAFE_STORE"] = "memory"
    try:
        import ec2.app
    finally:
        if saved is None:
            os.environ.pop("CAFE_STORE", None)
        else:
            os.environ["CAFE_STORE"] = saved
    from cafe.api import build_api
    from cafe.config import Config

    token = secrets.token_urlsafe(16)
    original = ec2.app.cafe_api
    api = ec2.app.cafe_api = build_api("ec2", Config(store="memory", staff_token=token))
    log = ServerLog()
    if mode == PUSH:
        settle = _settler(api, log)
        url, stop = uvicorn_in_thread(_logged_asgi(ec2.app.application, log))
    else:

        def settle() -> None:
            """Polling: nothing is pushed, the pages ask."""

        url, stop = _wsgi_server(_logged(ec2.app.application, log))
    try:
        yield LocalCafe(url, token, log, mode, RUNTIMES[mode], settle, api.service.store.latest_sequence)
    finally:
        stop()
        ec2.app.cafe_api = original
