"""The EC2 app: ``ec2.app:application``, served by gunicorn's uvicorn workers (``ec2/worker.py``).

``application`` speaks both interfaces: called with ``(scope, receive, send)`` it is the shared
ASGI adapter (``cafe.live.asgi``: the API and the live stream), which is what the instance runs;
called with ``(environ, start_response)`` it is the plain WSGI adapter, which in-process tools
still use (httpx's WSGI transport, wsgiref in the browser tests and the request census). The
WSGI side cannot hold a stream open, so there ``GET /live`` answers ``{"transport": "none"}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from cafe.api import MAX_BODY_BYTES, Request, build_api, new_request_id
from cafe.live.asgi import application as asgi_application

cafe_api = build_api("ec2")


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").lower(): value for key, value in environ.items() if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    # Read at most one byte past the limit: enough to refuse the request with 413.
    return bytes(environ["wsgi.input"].read(min(length, MAX_BODY_BYTES + 1))) if length > 0 else b""


def _path(environ: dict[str, Any]) -> str:
    raw = str(environ.get("PATH_INFO") or "/")
    try:
        # PEP 3333: PATH_INFO is bytes decoded as latin-1; undo that to get the UTF-8 path.
        return raw.encode("latin-1").decode("utf-8", "replace") or "/"
    except UnicodeEncodeError:  # a server that decoded it already (httpx's WSGI transport)
        return raw


def wsgi_application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    headers = _headers(environ)
    request = Request(
        method=environ["REQUEST_METHOD"],
        path=_path(environ),
        headers=headers,
        query=dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
        body=_body(environ),
        # None given: make it here, sparing CafeApi a copy of the request (an unsafe one it replaces).
        request_id=headers.get("x-request-id") or new_request_id(),
        peer=environ.get("REMOTE_ADDR", ""),
        scheme=environ.get("wsgi.url_scheme", "http"),
    )
    response = cafe_api.handle(request)
    start_response(f"{response.status} {HTTPStatus(response.status).phrase}", list(response.headers.items()))
    return [response.body]


# Looked up on every request, so tests may point ``cafe_api`` at another café.
asgi_app = asgi_application(lambda: cafe_api)


def application(first: Any, second: Any, third: Any = None) -> Any:
    """ASGI 3 with three arguments (scope, receive, send: the instance's uvicorn workers),
    WSGI with two (environ, start_response). Any other arity is a TypeError, as uvicorn's
    factory probe expects of an app that is not a factory."""
    if third is not None:
        result: Awaitable[None] = asgi_app(first, second, third)
        return result
    return wsgi_application(first, second)
