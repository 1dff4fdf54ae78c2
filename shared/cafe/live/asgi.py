"""The ASGI adapter shared by the runtimes that push: the Fargate container (uvicorn) and the EC2
instance (gunicorn with uvicorn workers). HTTP connection → shared ``CafeApi`` → ASGI messages,
plus the live stream (server-sent events) at ``cafe.api.application.LIVE_EVENTS_PATH``.

A bare ASGI callable rather than Starlette routing: the shared API routes every method on
every path itself (an unknown method gets its 405 with ``Allow`` and the error JSON, like the
other runtimes), and it works out the client behind the ALB itself (``cafe.api.origin``).
It reads the ASGI scope and writes the two response messages directly: Starlette's Request,
Headers and Response objects cost more than the café's own work on GET /menu
(bench/throughput.py, issue 14).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool

from cafe.api import MAX_BODY_BYTES, CafeApi, Request, Response, new_request_id
from cafe.api.application import LIVE_EVENTS_PATH, with_safe_request_id
from cafe.api.http import JSON_TYPE, SECURITY_HEADERS
from cafe.errors import CafeError
from cafe.live import hub as live_hub

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: A stream whose client has not taken a message within this long is ended (it never reads):
#: its socket buffer is full, and holding it would only hold memory.
SEND_TIMEOUT_SECONDS = 10.0
#: Tells EventSource how long to wait before reconnecting after the stream drops (ms).
RECONNECT_MS = 3000


async def read_body(receive: Receive, headers: dict[str, str]) -> bytes | None:
    """The body, but never more than one byte past the limit: enough to refuse it with 413.

    None when the client hung up first. A request with neither Content-Length nor
    Transfer-Encoding has no body (RFC 9112 §6.3): nothing to wait for.
    """
    if "content-length" not in headers and "transfer-encoding" not in headers:
        return b""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body.extend(message.get("body", b""))
        if len(body) > MAX_BODY_BYTES or not message.get("more_body", False):
            return bytes(body)


async def serve_http(api: CafeApi, scope: Scope, receive: Receive, send: Send) -> None:
    # ASGI header names are already lower-case; a repeated header or parameter keeps its last value.
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    body = await read_body(receive, headers)
    if body is None:
        return  # nobody is left to answer
    query_string = scope["query_string"]
    client = scope.get("client")
    cafe_request = Request(
        method=scope["method"],
        path=scope["path"],
        headers=headers,
        query=dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)) if query_string else {},
        body=body,
        # None given: make it here, sparing CafeApi a copy of the request (an unsafe one it replaces).
        request_id=headers.get("x-request-id") or new_request_id(),
        peer=client[0] if client else "",
        scheme=scope.get("scheme", "http"),
        streams=True,
    )
    if cafe_request.path == LIVE_EVENTS_PATH and api.service.store.has_feed:
        await serve_events(api, cafe_request, receive, send)
        return
    if api.inline_safe:
        # SQLite: a call takes microseconds, less than the hop to a worker thread would.
        response = api.handle(cafe_request)
    else:
        # DynamoDB calls wait on the network: keep them off the event loop.
        response = await run_in_threadpool(api.handle, cafe_request)
    await send_response(send, response)


def encode_header(name: str, value: str) -> tuple[bytes, bytes]:
    return name.lower().encode("latin-1"), value.encode("latin-1")


# Headers sent on (nearly) every response, encoded once: encoding them was a third of the
# adapter's own time on GET /menu. Others (ids, ETags, Location) are encoded per response.
CONSTANT_HEADERS: dict[tuple[str, str], tuple[bytes, bytes]] = {
    pair: encode_header(*pair)
    for pair in [
        *SECURITY_HEADERS.items(),
        ("Content-Type", JSON_TYPE),
        ("Cache-Control", "no-store"),
        ("Cache-Control", "no-cache"),
        ("X-Cafe-Runtime", "fargate"),
        ("X-Cafe-Runtime", "ec2"),
    ]
}


async def send_response(send: Send, response: Response) -> None:
    raw_headers = [(b"content-length", str(len(response.body)).encode())]
    raw_headers += [CONSTANT_HEADERS.get(pair) or encode_header(*pair) for pair in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": response.body})


async def serve_events(api: CafeApi, request: Request, receive: Receive, send: Send) -> None:
    """One live subscriber: refused like any request before the stream starts, then the current
    state, each change, and heartbeats until the client leaves or stops reading."""
    request = with_safe_request_id(request)
    opened = api.open_live(request)
    if isinstance(opened, Response):
        await send_response(send, opened)
        return
    hub = live_hub.hub_for(api)
    try:
        subscriber = await hub.subscribe(*opened)
    except CafeError as error:  # the store did not answer, or this process holds all it can: 503
        await send_response(send, api.refuse(request, error))
        return
    except Exception:
        api.telemetry.log("exception", "unhandled error")
        await send_response(send, api.refuse(request, None))
        return
    stream_headers = api.stream_headers(request).items()
    headers = [CONSTANT_HEADERS.get(pair) or encode_header(*pair) for pair in stream_headers]
    watcher = asyncio.get_running_loop().create_task(_until_disconnect(receive, subscriber))
    try:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await _send(send, f"retry: {RECONNECT_MS}\n\n".encode())
        while True:
            message = await subscriber.next(live_hub.HEARTBEAT_SECONDS)
            if message is None:
                break
            await _send(send, b": heartbeat\n\n" if message == "" else b"data: " + message.encode() + b"\n\n")
        await _send(send, b"", more=False)
    except (TimeoutError, OSError):
        pass  # the client stopped reading or went away: end the stream
    finally:
        hub.unsubscribe(subscriber)
        watcher.cancel()
        with contextlib.suppress(BaseException):
            await watcher


async def _send(send: Send, body: bytes, *, more: bool = True) -> None:
    await asyncio.wait_for(
        send({"type": "http.response.body", "body": body, "more_body": more}), SEND_TIMEOUT_SECONDS
    )


async def _until_disconnect(receive: Receive, subscriber: live_hub.Subscriber) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    subscriber.close()


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def application(get_api: Callable[[], CafeApi]) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI callable serving ``get_api()`` (looked up per request: tests swap it)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
        elif scope["type"] == "http":  # websockets: nothing here speaks them
            await serve_http(get_api(), scope, receive, send)

    return app
