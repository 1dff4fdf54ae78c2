"""A subscriber of the push contract (docs/live.md) that does not care how the runtime pushes.

``open_subscription(runtime, channel=…, order_id=…, token=…)`` subscribes the way ``GET /live``
says the runtime pushes, and yields a ``Stream`` of the JSON messages in arrival order:

- SSE (Fargate, EC2): ``GET /events?<fields>`` with ``Accept: text/event-stream`` (httpx), the
  staff token as the ``Authorization`` header; refused by an HTTP error before the stream.
- WebSocket (Lambda, through API Gateway's WebSocket API in the local emulator): one connection
  (aiohttp), one ``{"action": "subscribe", <fields>, "token"}`` frame; refused when the first
  message is ``{"type": "error", "status", "error": {"code", …}}``.

Either refusal raises ``Refused(status, code)``. ``peer`` names the client the runtime sees (the
staff lockout's key): an ``X-Forwarded-For`` hop over SSE (loopback is a trusted proxy), a
loopback source address of its own over a WebSocket (API Gateway takes no such header).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import aiohttp
import httpx
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from cafe.api.asyncapi import document as asyncapi_document

if TYPE_CHECKING:
    from tests.push.conftest import Runtime

#: How long opening a subscription may take: a WebSocket's first subscription may meet a cold
#: $connect or $default function (a new execution environment) in the emulator.
OPEN_TIMEOUT = 15.0


def validate(message: dict[str, Any], name: str | None = None) -> None:
    """The message is one the AsyncAPI document describes (its payload schema, refs resolved):
    the message named ``name``, by default its ``type``."""
    registry: Registry = Registry().with_resource(
        "urn:asyncapi", Resource.from_contents(asyncapi_document(), default_specification=DRAFT202012)
    )
    schema = {"$ref": f"urn:asyncapi#/components/messages/{name or message['type']}/payload"}
    Draft202012Validator(schema, registry=registry).validate(message)


class Refused(Exception):
    """A subscription the runtime refused: the HTTP status and error code it gave."""

    def __init__(self, status: int, code: str, document: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"refused: {status} {code}: {document}")
        self.status = status
        self.code = code
        self.document = document
        self.headers = headers or {}


def sse_peer(peer: int) -> str:
    return f"192.0.2.{peer}"


def websocket_peer(peer: int) -> str:
    return f"127.0.0.{peer}"


class Stream:
    """One subscription's messages, read by a task into a queue: a timed-out wait must not
    cancel the read itself (an async generator cancelled mid-read is finished for good)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.messages: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.reader: asyncio.Task[None] | None = None

    def _start(self) -> None:
        self.reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        raise NotImplementedError

    async def next(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message, within ``timeout`` (by default the runtime's ``prompt``)."""
        timeout = self.runtime.prompt if timeout is None else timeout
        message = await asyncio.wait_for(self.messages.get(), timeout)
        if message is None:
            self.messages.put_nowait(None)  # ended for good: every later call says so too
            raise EOFError("the stream ended")
        return message

    async def nothing_within(self, seconds: float) -> bool:
        try:
            message = await self.next(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message {message}")

    async def no_more(self) -> bool:
        """Nothing more comes: once the runtime has handed out every change committed so far
        (Lambda: its stream poller is past them), nothing arrives within its ``quiet`` time."""
        await self.runtime.caught_up()
        return await self.nothing_within(self.runtime.quiet)

    async def ended(self, timeout: float | None = None) -> bool:
        """The runtime ended the stream (within ``timeout``) with no message before the end."""
        try:
            message = await self.next(timeout)
        except EOFError:
            return True
        raise AssertionError(f"a message {message} where the stream should end")

    async def stop(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


class SseStream(Stream):
    """An SSE response read event by event (comments and ``retry:`` kept aside)."""

    transport = "sse"

    def __init__(self, runtime: Runtime, response: httpx.Response) -> None:
        super().__init__(runtime)
        self.response = response
        self.comments = 0
        self.retry: list[int] = []
        self._start()

    async def _read(self) -> None:
        data: list[str] = []
        try:
            async for line in self.response.aiter_lines():
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("retry: "):
                    self.retry.append(int(line[len("retry: ") :]))
                elif line.startswith("data: "):
                    data.append(line[len("data: ") :])
                elif line == "" and data:
                    self.messages.put_nowait(dict(json.loads("\n".join(data))))
                    data = []
        except (httpx.HTTPError, asyncio.CancelledError):
            pass
        finally:
            self.messages.put_nowait(None)


class WebSocketStream(Stream):
    """A WebSocket connection's text frames, one message each; the end when it closes."""

    transport = "websocket"

    def __init__(self, runtime: Runtime, ws: aiohttp.ClientWebSocketResponse) -> None:
        super().__init__(runtime)
        self.ws = ws
        self._start()

    async def _read(self) -> None:
        try:
            while True:
                message = await self.ws.receive()
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break  # CLOSE, CLOSING, CLOSED, ERROR: the connection is over
                self.messages.put_nowait(dict(json.loads(message.data)))
        except (aiohttp.ClientError, asyncio.CancelledError):
            pass
        finally:
            self.messages.put_nowait(None)

    async def send(self, frame: Any) -> None:
        """One client frame: a document, or raw text as it is."""
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code


@asynccontextmanager
async def open_subscription(
    runtime: Runtime,
    token: str | None = None,
    *,
    peer: int | None = None,
    shared: Any = None,
    settle: bool = True,
    **fields: str,
) -> AsyncIterator[Stream]:
    """Subscribe to ``fields`` (``order_id=…`` or ``channel=…``, and whatever a bad subscription
    adds) on ``runtime``; the stream's first message is the current state. Raises ``Refused``.

    ``shared``: a client from ``shared_client`` for many subscriptions at once. ``settle``: on
    leaving, wait until the runtime has let the connection go (``Runtime.closed``); a caller
    closing many at once waits once for all of them instead."""
    if runtime.transport == "sse":
        async with _sse_subscription(runtime, token, peer, shared, fields) as stream:
            yield stream
    else:
        async with _websocket_subscription(runtime, token, peer, shared, settle, fields) as stream:
            yield stream


@asynccontextmanager
async def shared_client(runtime: Runtime, count: int) -> AsyncIterator[Any]:
    """One client for ``count`` subscriptions: an httpx pool, or an aiohttp session."""
    if runtime.transport == "sse":
        limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=httpx.Timeout(20, read=None), limits=limits) as client:
            yield client
    else:
        connector = aiohttp.TCPConnector(limit=count + 10)
        async with aiohttp.ClientSession(connector=connector) as session:
            yield session


@asynccontextmanager
async def _sse_subscription(
    runtime: Runtime,
    token: str | None,
    peer: int | None,
    shared: httpx.AsyncClient | None,
    fields: dict[str, str],
) -> AsyncIterator[SseStream]:
    headers = {"Accept": "text/event-stream"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if peer is not None:
        headers["X-Forwarded-For"] = sse_peer(peer)
    client = shared or httpx.AsyncClient(timeout=httpx.Timeout(10, read=None))
    try:
        url = f"{runtime.url}/events?{urlencode(fields)}"
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                document = json.loads(await response.aread())
                raise Refused(
                    response.status_code, document["error"]["code"], document, dict(response.headers)
                )
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = SseStream(runtime, response)
            try:
                yield stream
            finally:
                await stream.stop()
    finally:
        if shared is None:
            await client.aclose()


@asynccontextmanager
async def _websocket_subscription(
    runtime: Runtime,
    token: str | None,
    peer: int | None,
    shared: aiohttp.ClientSession | None,
    settle: bool,
    fields: dict[str, str],
) -> AsyncIterator[WebSocketStream]:
    assert runtime.ws_url is not None
    if shared is None:
        local = (websocket_peer(peer), 0) if peer is not None else None
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=local))
    else:
        session = shared
    try:
        ws = await session.ws_connect(runtime.ws_url, timeout=aiohttp.ClientWSTimeout(ws_close=10))
        stream = WebSocketStream(runtime, ws)
        try:
            frame = {"action": "subscribe", **fields}
            if token is not None:
                frame["token"] = token
            await stream.send(frame)
            first = await stream.next(OPEN_TIMEOUT)
            # API Gateway's own answer when the $default function failed or was throttled.
            assert "type" in first, f"not a café message: {first}"
            if first["type"] == "error":
                raise Refused(first["status"], first["error"]["code"], first)
            _put_back(stream, first)
            yield stream
        finally:
            await ws.close()
            await stream.stop()
            if settle:
                await runtime.closed()
    finally:
        if shared is None:
            await session.close()


def _put_back(stream: Stream, message: dict[str, Any]) -> None:
    """Make ``message`` the next one again (it was read to tell a refusal from the state)."""
    waiting = []
    while not stream.messages.empty():
        waiting.append(stream.messages.get_nowait())
    for item in (message, *waiting):
        stream.messages.put_nowait(item)
