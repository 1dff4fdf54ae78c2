"""ASGI adapter: the HTTP connection → shared ``CafeApi`` → Starlette response.

A bare ASGI callable rather than Starlette routing: the shared API routes every method on
every path itself (an unknown method gets its 405 with ``Allow`` and the error JSON, like the
other runtimes), and it works out the client behind the ALB itself (``cafe.api.origin``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response

from cafe.api import MAX_BODY_BYTES, Request, build_api

cafe_api = build_api("fargate")
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def read_body(request: StarletteRequest) -> bytes:
    """The body, but never more than one byte past the limit: enough to refuse it with 413."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            break
    return bytes(body)


async def endpoint(request: StarletteRequest) -> Response:
    # Read the ASGI scope directly: building Starlette's Headers, URL and QueryParams objects
    # cost more than the café's own work on GET /menu (bench/throughput.py). ASGI header
    # names are already lower-case; a repeated header or parameter keeps its last value.
    scope = request.scope
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    query_string = scope["query_string"]
    client = scope.get("client")
    cafe_request = Request(
        method=scope["method"],
        path=scope["path"],
        headers=headers,
        query=dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)) if query_string else {},
        body=await read_body(request),
        request_id=headers.get("x-request-id") or str(uuid.uuid4()),
        peer=client[0] if client else "",
        scheme=scope.get("scheme", "http"),
    )
    if cafe_api.inline_safe:
        # SQLite: a call takes microseconds, less than the hop to a worker thread would.
        response = cafe_api.handle(cafe_request)
    else:
        # DynamoDB calls wait on the network: keep them off the event loop.
        response = await run_in_threadpool(cafe_api.handle, cafe_request)
    return Response(response.body, status_code=response.status, headers=response.headers)


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
        return
    if scope["type"] != "http":  # websockets: nothing here speaks them
        return
    response = await endpoint(StarletteRequest(scope, receive))
    await response(scope, receive, send)
