"""The subscriber side of bench/push.py: many live subscriptions on one event loop per process.

Each subscriber process (``SubscriberPool`` driven by ``worker_main`` over a pipe) opens its share
of the subscriptions through a ``Transport`` and time-stamps every message on arrival
(``time.time()``, the wall clock the server stamps its transitions with: same machine). Messages
are kept as raw bytes while a round records and parsed only afterwards, in the coordinator, so
the subscriber processes spend their CPU on reading sockets.

Two transports speak issue 28's one contract (docs/live.md, ``/asyncapi.json``):

- ``SseTransport``: ``GET <url>?order_id=…`` / ``?channel=board`` / ``?channel=queue`` with the
  staff ``Authorization`` header, ``Accept: text/event-stream``; each event's ``data:`` is one
  message.
- ``WebSocketTransport``: connect to the URL, send ``{"action": "subscribe", …}`` (the staff token
  in the frame for the queue); each text frame is one message, ``{"type": "error"}`` a refusal.

``GET /live`` names the transport and URL; ``transport_for`` picks the class. A subscriber counts
as connected once its first message (the current state) has arrived; that message is not a
delivery and is never recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import aiohttp

#: Subscriptions being opened at once per process (more only queue in the server's backlog). A
#: WebSocket connection runs the $connect function first: fewer at once than its environments.
CONNECT_CONCURRENCY = {"sse": 48, "websocket": 8}
#: A refusal with one of these statuses is retried (up to RETRIES times, backing off).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRIES = 6
RETRY_BACKOFF_S = 0.25
#: How long a subscription may take to deliver its current state before it counts as failed.
CONNECT_TIMEOUT_S = 60.0
#: The event-loop lag probe's period: how late this process's own loop runs its timers.
LAG_PROBE_S = 0.005


@dataclass(frozen=True)
class Subscription:
    """One subscriber: ``channel`` is "order" (with ``order_id``), "board" or "queue"."""

    index: int
    channel: str
    order_id: str = ""


class Refused(Exception):
    """The server refused the subscription (an HTTP status, or an error frame)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail[:200]}")
        self.status = status


class Stream(Protocol):
    """One open subscription: its messages as raw JSON bytes, in order; ``comments`` counts
    keep-alives (SSE heartbeats, WebSocket pongs)."""

    comments: int

    def messages(self) -> AsyncIterator[bytes]: ...

    async def close(self) -> None: ...


class Transport(Protocol):
    name: str
    url: str

    async def open(self, session: aiohttp.ClientSession, subscription: Subscription) -> Stream: ...


# -- server-sent events ------------------------------------------------------------------------
class _SseStream:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.comments = 0

    async def messages(self) -> AsyncIterator[bytes]:
        buffer = b""
        async for chunk in self.response.content.iter_any():
            buffer += chunk
            while (end := buffer.find(b"\n\n")) >= 0:
                event, buffer = buffer[:end], buffer[end + 2 :]
                data = [line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:")]
                if data:
                    yield b"\n".join(data)
                elif event.startswith(b":"):
                    self.comments += 1

    async def close(self) -> None:
        self.response.close()


@dataclass
class SseTransport:
    """``GET <url>?…`` with ``Accept: text/event-stream`` (Fargate, EC2)."""

    url: str
    staff_token: str
    name: str = "sse"

    async def open(self, session: aiohttp.ClientSession, subscription: Subscription) -> Stream:
        headers = {"Accept": "text/event-stream"}
        if subscription.channel == "order":
            query = {"order_id": subscription.order_id}
        else:
            query = {"channel": subscription.channel}
            if subscription.channel == "queue":
                headers["Authorization"] = f"Bearer {self.staff_token}"
        response = await session.get(f"{self.url}?{urlencode(query)}", headers=headers)
        if response.status != 200:
            body = await response.text()
            response.close()
            raise Refused(response.status, body)
        return _SseStream(response)


# -- WebSocket (API Gateway's WebSocket API on Lambda) ------------------------------------------
class _WebSocketStream:
    def __init__(self, socket: aiohttp.ClientWebSocketResponse, first: bytes) -> None:
        self.socket = socket
        self.first = first
        self.comments = 0

    async def messages(self) -> AsyncIterator[bytes]:
        yield self.first
        async for frame in self.socket:
            if frame.type == aiohttp.WSMsgType.TEXT:
                data = frame.data.encode()
                if data.startswith(b'{"type":"pong"') or data.startswith(b'{"type": "pong"'):
                    self.comments += 1
                    continue
                yield data
            elif frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return

    async def close(self) -> None:
        await self.socket.close()


@dataclass
class WebSocketTransport:
    """Connect, then ``{"action": "subscribe", …}``; one message per text frame (Lambda)."""

    url: str
    staff_token: str
    name: str = "websocket"

    async def open(self, session: aiohttp.ClientSession, subscription: Subscription) -> Stream:
        frame: dict[str, str] = {"action": "subscribe"}
        if subscription.channel == "order":
            frame["order_id"] = subscription.order_id
        else:
            frame["channel"] = subscription.channel
            if subscription.channel == "queue":
                frame["token"] = self.staff_token
        try:
            socket = await session.ws_connect(self.url, autoping=True, max_msg_size=0)
        except aiohttp.WSServerHandshakeError as error:
            raise Refused(error.status, error.message) from error
        await socket.send_str(json.dumps(frame))
        first = await socket.receive()
        if first.type != aiohttp.WSMsgType.TEXT:
            await socket.close()
            raise Refused(0, f"no answer to the subscribe frame ({first.type.name})")
        data = first.data.encode()
        if json.loads(data).get("type") == "error":
            await socket.close()
            raise Refused(0, first.data)
        return _WebSocketStream(socket, data)


def transport_for(live: dict[str, Any], base_url: str, staff_token: str) -> Transport | None:
    """The transport ``GET /live``'s answer names (its URL resolved against ``base_url``); None
    for ``{"transport": "none"}``: the runtime does not push."""
    kind = live.get("transport")
    url = urljoin(base_url + "/", str(live.get("url", "")))
    if kind == "sse":
        return SseTransport(url, staff_token)
    if kind == "websocket":
        parts = urlsplit(url)
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        return WebSocketTransport(urlunsplit((scheme, *parts[1:])), staff_token)
    return None


def make_transport(kind: str, url: str, staff_token: str) -> Transport:
    return SseTransport(url, staff_token) if kind == "sse" else WebSocketTransport(url, staff_token)


# -- one process's subscribers -------------------------------------------------------------------
@dataclass
class _Open:
    subscription: Subscription
    task: asyncio.Task[None] | None = None
    stream: Stream | None = None
    closing: bool = False


@dataclass
class SubscriberPool:
    """This process's subscribers, what they received, and how well this process kept up."""

    transport: Transport
    session: aiohttp.ClientSession
    open: dict[int, _Open] = field(default_factory=dict)
    recording: bool = False
    records: list[tuple[int, float, bytes]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retries: int = 0  # refusals that a retry then got past (or not: then also in refused)
    ended: int = 0  # streams the server ended (or that broke) while we did not close them
    messages: int = 0
    lag_max_s: float = 0.0
    lags: list[float] = field(default_factory=list)

    async def _open(self, subscription: Subscription) -> Stream:
        """The transport's open, retried after a refusal that says "later" (a throttled $connect
        is API Gateway's 500, a full hub 503), as a page reconnects: each retry is counted."""
        for attempt in range(RETRIES + 1):
            try:
                return await self.transport.open(self.session, subscription)
            except Refused as error:
                if error.status not in RETRY_STATUSES or attempt == RETRIES:
                    raise
                self.retries += 1
                await asyncio.sleep(min(RETRY_BACKOFF_S * 2**attempt, 2.0))
        raise AssertionError("unreachable")

    async def _run(self, entry: _Open, ready: asyncio.Future[bool]) -> None:
        try:
            entry.stream = await self._open(entry.subscription)
            async for data in entry.stream.messages():
                if not ready.done():
                    ready.set_result(True)  # the current state: connected, not a delivery
                    continue
                self.messages += 1
                if self.recording:
                    self.records.append((entry.subscription.index, time.time(), data))
        except Refused as error:
            self.refused.append(str(error))
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as error:
            if ready.done() and not entry.closing:
                self.ended += 1
            elif not ready.done():
                self.failed.append(repr(error))
        else:
            if ready.done() and not entry.closing:
                self.ended += 1
        finally:
            if not ready.done():
                ready.set_result(False)
            if entry.stream is not None:
                with contextlib.suppress(Exception):
                    await entry.stream.close()
            if self.open.get(entry.subscription.index) is entry:
                del self.open[entry.subscription.index]

    async def subscribe(self, subscriptions: list[Subscription]) -> dict[str, Any]:
        """Open ``subscriptions`` (a bounded number at a time); return once each has its current
        state or has failed."""
        started = time.monotonic()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY[self.transport.name])
        refused_before, failed_before, retries_before = len(self.refused), len(self.failed), self.retries

        async def one(subscription: Subscription) -> bool:
            async with gate:
                ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
                entry = _Open(subscription)
                entry.task = asyncio.get_running_loop().create_task(self._run(entry, ready))
                self.open[subscription.index] = entry
                try:
                    return await asyncio.wait_for(asyncio.shield(ready), CONNECT_TIMEOUT_S)
                except TimeoutError:
                    self.failed.append("timed out waiting for the current state")
                    entry.closing = True
                    entry.task.cancel()
                    return False

        results = await asyncio.gather(*(one(s) for s in subscriptions))
        return {
            "connected": sum(results),
            "lost": [s.index for s, ok in zip(subscriptions, results, strict=True) if not ok],
            "retries": self.retries - retries_before,
            "refused": self.refused[refused_before:][:5],
            "refused_count": len(self.refused) - refused_before,
            "failed": self.failed[failed_before:][:5],
            "failed_count": len(self.failed) - failed_before,
            "seconds": time.monotonic() - started,
        }

    async def close(self, indices: list[int] | None = None) -> int:
        chosen = [
            self.open[i] for i in (indices if indices is not None else list(self.open)) if i in self.open
        ]
        tasks = [entry.task for entry in chosen if entry.task is not None]
        for entry in chosen:
            entry.closing = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return len(chosen)

    async def probe_lag(self) -> None:
        """How late this loop wakes up: a loop that lags cannot time-stamp arrivals honestly."""
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_PROBE_S)
            lag = loop.time() - before - LAG_PROBE_S
            if self.recording:
                self.lags.append(lag)
                self.lag_max_s = max(self.lag_max_s, lag)

    def status(self) -> dict[str, Any]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "open": len(self.open),
            "ended": self.ended,
            "messages": self.messages,
            "comments": sum(e.stream.comments for e in self.open.values() if e.stream is not None),
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "rss_kb": usage.ru_maxrss,
        }


async def _serve(connection: Connection, transport: Transport) -> None:
    """Answer the coordinator's commands (one at a time) until it says exit."""
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def reader() -> None:
        while True:
            try:
                command = connection.recv()
            except EOFError:
                command = {"op": "exit"}
            loop.call_soon_threadsafe(commands.put_nowait, command)
            if command["op"] == "exit":
                return

    threading.Thread(target=reader, daemon=True).start()
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, read_bufsize=2**20) as session:
        pool = SubscriberPool(transport, session)
        probe = loop.create_task(pool.probe_lag())
        while True:
            command = await commands.get()
            op = command["op"]
            answer: Any = None
            if op == "subscribe":
                subscriptions = [Subscription(*s) for s in command["subscriptions"]]
                answer = await pool.subscribe(subscriptions)
            elif op == "record":
                pool.recording = bool(command["on"])
                if pool.recording:
                    pool.lags, pool.lag_max_s = [], 0.0
                answer = pool.status()
            elif op == "collect":
                lags = sorted(pool.lags)
                answer = {
                    "records": pool.records,
                    "lag_p99_s": lags[int(0.99 * (len(lags) - 1))] if lags else 0.0,
                    "lag_max_s": pool.lag_max_s,
                    **pool.status(),
                }
                pool.records = []
            elif op == "close":
                answer = await pool.close(command.get("indices"))
            elif op == "status":
                answer = pool.status()
            elif op == "exit":
                await pool.close()
                probe.cancel()
                connection.send(None)
                return
            connection.send(answer)


def raise_open_files(needed: int = 0) -> tuple[int, int]:
    """Raise this process's open-files limit to its hard limit (children inherit it: the servers
    started from here too); SystemExit when even that is below ``needed``. The new (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and 0 < hard < needed:
        raise SystemExit(
            f"the open-files hard limit is {hard}, below the {needed} this run needs (ulimit -Hn)"
        )
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def worker_main(connection: Connection, kind: str, url: str, staff_token: str) -> None:
    """A subscriber process's entry point (multiprocessing, spawn)."""
    raise_open_files()
    import uvloop  # the servers' own loop (requirements/runtime.txt): the cheapest reader here

    uvloop.run(_serve(connection, make_transport(kind, url, staff_token)))
