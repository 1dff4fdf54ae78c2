"""The café the census drives: the EC2 runtime's WSGI app, in this process, on a memory store.

``ec2.app.application`` is what gunicorn serves on an instance; here it is served by wsgiref's
threaded server on a free loopback port (as the browser tests' ``page_cafe`` does), pointed at a
private in-memory café. A wrapper logs every request the server answers (method, route, status),
tagged with the phase the driver is in, so the census can check the browser's count against what
reached the server and take each status as the server answered it (a revalidated static file is a
304 at the server even where Chromium reports the cached copy to the page).
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx

from compare.census.routes import route_key

RUNTIME = (
    "ec2: ec2.app.application (the WSGI app gunicorn serves) in-process on a threaded wsgiref "
    "server, memory store"
)
# The driver's own calls (placing orders, moving them along) carry this agent and are not counted.
DRIVER_AGENT = "census-driver"


@dataclass(frozen=True)
class Answered:
    """One request the server answered for a page."""

    phase: str
    route: str  # "GET /orders/{order_id}"
    status: int


@dataclass
class ServerLog:
    """What the server answered to the pages, tagged with the phase the driver was in."""

    phase: str = "idle"
    answered: list[Answered] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.answered.append(Answered(self.phase, route_key(method, path), status))

    def take(self) -> list[Answered]:
        with self.lock:
            taken, self.answered = self.answered, []
        return taken


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

    def driver(self, *, staff: bool) -> httpx.Client:
        """The script's own client (a customer's or, with ``staff``, the barista's token)."""
        headers = {"User-Agent": DRIVER_AGENT}
        if staff:
            headers["Authorization"] = f"Bearer {self.staff_token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _logged(app: WsgiApp, log: ServerLog) -> WsgiApp:
    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def answer(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            if not str(environ.get("HTTP_USER_AGENT", "")).startswith(DRIVER_AGENT):
                log.record(environ["REQUEST_METHOD"], str(environ.get("PATH_INFO") or "/"), int(status[:3]))
            return start_response(status, headers, *rest)

        return app(environ, answer)

    return wrapped


@contextmanager
def local_cafe() -> Iterator[LocalCafe]:
    """Serve the EC2 runtime's WSGI app on a private memory store until the block ends."""
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
    ec2.app.cafe_api = build_api("ec2", Config(store="memory", staff_token=token))
    log = ServerLog()
    server = make_server(
        "127.0.0.1", 0, _logged(ec2.app.application, log), _ThreadingWSGIServer, _QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalCafe(url=f"http://127.0.0.1:{server.server_port}", staff_token=token, log=log)
    finally:
        server.shutdown()
        server.server_close()
        ec2.app.cafe_api = original
