"""ASGI adapter: the HTTP connection → shared ``CafeApi`` → ASGI response messages.

A bare ASGI callable rather than Starlette routing: the shared API routes every method on
every path itself (an unknown method gets its 405 with ``Allow`` and the error JSON, like the
other runtimes), and it works out the client behind the ALB itself (``cafe.api.origin``).
It reads the ASGI scope and writes the two response messages directly: Starlette's Request,
Headers and Response objects cost more than the café's own work on GET /menu
(bench/throughput.py, issue 14).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool

from cafe.api import MAX_BODY_BYTES, Request, Response, build_api, new_request_id
from cafe.api.http import JSON_TYPE, SECURITY_HEADERS

cafe_api = build_api("fargate")
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


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


async def serve_http(scope: Scope, receive: Receive, send: Send) -> None:
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
    )
    if cafe_api.inline_safe:
        # SQLite: a call takes microseconds, less than the hop to a worker thread would.
        response = cafe_api.handle(cafe_request)
    else:
        # DynamoDB calls wait on the network: keep them off the event loop.
        response = await run_in_threadpool(cafe_api.handle, cafe_request)
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
        ("X-Cafe-Runtime", cafe_api.runtime),
    ]
}


async def send_response(send: Send, response: Response) -> None:
    raw_headers = [(b"content-length", str(len(response.body)).encode())]
    raw_headers += [CONSTANT_HEADERS.get(pair) or encode_header(*pair) for pair in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": response.body})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    elif scope["type"] == "http":  # websockets: nothing here speaks them
        await serve_http(scope, receive, send)
