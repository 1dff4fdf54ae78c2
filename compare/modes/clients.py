"""The clients of a modes phase: the barista making changes, pollers, and push subscribers.

Each client counts the requests it sends (``Counter``), so a phase reports what the screens cost
the server in requests per second, in either mode. Subscribers speak the one push contract
(docs/live.md): server-sent events from ``GET <url>?order_id=…`` or ``?channel=…``, or API
Gateway's WebSocket API with a subscribe message; both deliver the GET endpoints' shapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from compare.load.http import Http
from compare.modes.ledger import Ledger

NEXT_STATUS = {"PLACED": "PREPARING", "PREPARING": "READY", "READY": "COMPLETED"}
# What the barista page asks every refresh (the census: GET /orders × 3 columns + GET /store).
BARISTA_PATHS = (
    "/orders?status=PLACED",
    "/orders?status=PREPARING",
    "/orders?status=READY",
    "/store",
)
# A subscriber that has not connected within this long is counted as refused.
CONNECT_TIMEOUT_S = 30.0


@dataclass
class Counter:
    """Requests the clients sent (HTTP requests, subscribe and ping messages)."""

    sent: int = 0


# A connection the server closed while idle (a keep-alive timeout) fails the next request sent on
# it; the request is sent again on a fresh one. Safe: placements carry an Idempotency-Key and
# transitions an If-Match, so a request that did arrive answers the same the second time.
SEND_ATTEMPTS = 3
RESEND_AFTER_S = 0.2


async def _send(
    client: Http, method: str, path: str, body: Any, headers: dict[str, str]
) -> tuple[int, Any, str]:
    """(status, JSON document, ETag) of one request, sent again after a dropped connection."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            async with client.request(method, path, json=body, headers=headers) as response:
                document = await response.json(content_type=None)
                return response.status, document, response.headers.get("ETag", "")
        except (aiohttp.ClientConnectionError, TimeoutError):
            if attempt == SEND_ATTEMPTS - 1:
                raise
            await asyncio.sleep(RESEND_AFTER_S)
    raise AssertionError("unreachable")


async def place_orders(client: Http, body: dict[str, Any], count: int) -> dict[str, str]:
    """`count` fresh orders (PLACED), each with its own idempotency key: order id → its ETag."""

    async def one() -> tuple[str, str]:
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        status, created, etag = await _send(client, "POST", "/orders", body, headers)
        if status != 201:
            raise RuntimeError(f"placing a tracked order answered {status}: {created}")
        return str(created["id"]), etag

    return dict(await asyncio.gather(*(one() for _ in range(count))))


async def barista(
    client: Http,
    staff: dict[str, str],
    ledger: Ledger,
    orders: dict[str, str],
    rate: float,
    duration_s: float,
) -> int:
    """Move the tracked orders (id → ETag) on, one change every 1/rate s, round robin, each with
    If-Match; each change's answer time goes to the ledger. Returns the changes made."""
    ids = list(orders)
    etags = dict(orders)
    status = dict.fromkeys(ids, "PLACED")
    made = 0
    start = time.monotonic()
    for index in range(int(rate * duration_s)):
        order_id = ids[index % len(ids)]
        following = NEXT_STATUS.get(status[order_id])
        if following is None:
            break  # every order is collected: the window has all the changes it can have
        await asyncio.sleep(max(0.0, start + index / rate - time.monotonic()))
        headers = {**staff, "If-Match": etags[order_id]} if etags[order_id] else staff
        path = f"/orders/{order_id}/status"
        code, answer, etag = await _send(client, "POST", path, {"status": following}, headers)
        at = time.monotonic()
        if code == 200:
            status[order_id] = following
            etags[order_id] = etag
            ledger.committed(order_id, int(answer["version"]), at)
            made += 1
    return made


async def poll_order(
    client: Http,
    ledger: Ledger,
    tracker: int,
    order_id: str,
    every_s: float,
    counter: Counter,
    stop: asyncio.Event,
) -> None:
    """The tracking page: GET /orders/{id} every `every_s` (from a random phase), conditional on
    the last ETag as the page sends it."""
    etag: str | None = None
    await _sleep_or_stop(stop, random.uniform(0, every_s))  # noqa: S311 - a phase, not a secret
    while not stop.is_set():
        headers = {"If-None-Match": etag} if etag else {}
        counter.sent += 1
        try:
            async with client.get(f"/orders/{order_id}", headers=headers) as response:
                if response.status == 200:
                    document = await response.json(content_type=None)
                    ledger.saw(tracker, int(document["version"]), time.monotonic())
                    etag = response.headers.get("ETag", etag)
                else:
                    await response.read()
        except (aiohttp.ClientError, TimeoutError):
            pass  # a failed poll: the next one asks again, as the page does
        await _sleep_or_stop(stop, every_s)


async def poll_paths(
    client: Http,
    paths: tuple[str, ...],
    headers: dict[str, str],
    every_s: float,
    counter: Counter,
    stop: asyncio.Event,
) -> None:
    """A screen that refreshes `paths` every `every_s` (the board; the barista's queue)."""
    await _sleep_or_stop(stop, random.uniform(0, every_s))  # noqa: S311 - a phase, not a secret
    while not stop.is_set():
        for path in paths:
            counter.sent += 1
            try:
                async with client.get(path, headers=headers) as response:
                    await response.read()
            except (aiohttp.ClientError, TimeoutError):
                pass
        await _sleep_or_stop(stop, every_s)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


OnMessage = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Live:
    """Where the runtime pushes (its ``GET /live``): a transport and the URL to connect to."""

    transport: str  # "sse" | "websocket" | "none"
    url: str


async def live_info(client: Http) -> Live:
    async with client.get("/live") as response:
        document = await response.json(content_type=None) if response.status == 200 else {}
    transport = str(document.get("transport", "none"))
    url = str(document.get("url", ""))
    if transport == "sse" and url.startswith("/"):
        url = client.base + url
    return Live(transport, url)


@dataclass
class PushClient:
    """What every subscriber of a push phase shares: one client session, where the runtime
    pushes, the staff token (for the queue), the request counter and the phase's stop signal."""

    session: aiohttp.ClientSession
    live: Live
    staff_token: str
    counter: Counter
    stop: asyncio.Event

    async def subscribe(self, query: dict[str, str], on_message: OnMessage, connected: asyncio.Event) -> bool:
        """One subscriber until `stop`: False when it could not subscribe or was dropped early."""
        opened = self._sse if self.live.transport == "sse" else self._websocket
        try:
            return await opened(query, on_message, connected)
        except (aiohttp.ClientError, TimeoutError, ConnectionError, ValueError):
            return self.stop.is_set()

    async def _sse(self, query: dict[str, str], on_message: OnMessage, connected: asyncio.Event) -> bool:
        headers = {"Accept": "text/event-stream"}
        if query.get("channel") == "queue":
            headers["Authorization"] = f"Bearer {self.staff_token}"
        self.counter.sent += 1
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT_S)
        url = f"{self.live.url}?{urlencode(query)}"
        async with self.session.get(url, headers=headers, timeout=timeout) as response:
            if response.status != 200:
                await response.read()
                return False
            connected.set()
            await _until_stopped(_read_events(response, on_message), self.stop)
            return self.stop.is_set()

    async def _websocket(
        self, query: dict[str, str], on_message: OnMessage, connected: asyncio.Event
    ) -> bool:
        frame: dict[str, str] = {"action": "subscribe", **query}
        if query.get("channel") == "queue":
            frame["token"] = self.staff_token
        timeout = aiohttp.ClientWSTimeout(ws_close=5.0)
        async with self.session.ws_connect(self.live.url, timeout=timeout) as socket:
            self.counter.sent += 2  # the connection ($connect) and the subscribe message
            await socket.send_str(json.dumps(frame))
            ended = await _until_stopped(_read_frames(socket, on_message, connected), self.stop)
            return self.stop.is_set() and ended != REFUSED


async def _until_stopped(reader: Awaitable[object], stop: asyncio.Event) -> object:
    """Read until the reader ends or `stop` is set, whichever comes first; the reader's result
    (None when it failed or was stopped). Both tasks are ended and awaited before returning, so
    none is left pending or with an exception nobody retrieved."""
    reading = asyncio.ensure_future(reader)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reading, stopping):
            task.cancel()
        await asyncio.gather(reading, stopping, return_exceptions=True)
    if reading.cancelled() or reading.exception() is not None:
        return None
    return reading.result()


async def _read_events(response: aiohttp.ClientResponse, on_message: OnMessage) -> None:
    data: list[str] = []
    async for raw in response.content:
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
        elif line == "" and data:
            on_message(json.loads("\n".join(data)))
            data = []


REFUSED = "refused"


async def _read_frames(
    socket: aiohttp.ClientWebSocketResponse, on_message: OnMessage, connected: asyncio.Event
) -> str:
    """Read the socket's messages until it closes ("closed") or an error answers the
    subscription ("refused")."""
    async for frame in socket:
        if frame.type != aiohttp.WSMsgType.TEXT:
            break
        message = json.loads(frame.data)
        if message.get("type") == "error":
            return REFUSED
        if message.get("type") != "pong":
            connected.set()  # the first message is the current state: subscribed
            on_message(message)
    return "closed"


def tracker_handler(ledger: Ledger, tracker: int) -> OnMessage:
    """What a tracking page does with each pushed message: note the order's version."""

    def on_message(message: dict[str, Any]) -> None:
        if message.get("type") == "order":
            ledger.saw(tracker, int(message["order"]["version"]), time.monotonic())

    return on_message


def ignore(_message: dict[str, Any]) -> None:
    """A screen's messages (board, queue): received and dropped, as a page renders them."""
