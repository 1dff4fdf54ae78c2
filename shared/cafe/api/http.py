"""Framework-neutral request and response: what every runtime adapter converts to and from."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json; charset=utf-8"
# Bodies above this are refused with 413 before any parsing.
MAX_BODY_BYTES = 64 * 1024


def new_request_id() -> str:
    """A fresh random 128-bit request id (32 hex digits), for a request that brought none.

    It ties log lines to a response and grants nothing, so it needs to be unique, not secret:
    ``random`` (reseeded in every forked worker) makes it without the system call that
    ``secrets`` costs on every request. Order ids, which are capabilities, use ``secrets``.
    """
    return f"{random.getrandbits(128):032x}"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)  # names lower-cased
    query: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    request_id: str = ""
    # The connection as the runtime saw it: the peer's address (the load balancer's, behind
    # one) and the scheme of that hop. ``cafe.api.origin`` works out the real client from them.
    peer: str = ""
    scheme: str = "http"
    # True when the runtime that received it can hold a server-sent-events stream open
    # (the ASGI adapter: Fargate, and EC2 under uvicorn workers): ``GET /live`` offers push then.
    streams: bool = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


def json_response(status: int, document: Any, headers: Mapping[str, str] | None = None) -> Response:
    return json_text_response(
        status, json.dumps(document, ensure_ascii=False, separators=(",", ":")), headers
    )


def json_text_response(status: int, text: str, headers: Mapping[str, str] | None = None) -> Response:
    """``json_response`` for a document already encoded (``Order.as_json``)."""
    return Response(
        status, text.encode(), {"Content-Type": JSON_TYPE, "Cache-Control": "no-store", **(headers or {})}
    )


# Sent on every response, page or API, by every runtime (added in ``CafeApi``, once).
# The pages load only their own scripts, styles and images and call only this origin; nothing
# may frame them (clickjacking a barista's buttons) and no URL leaks to other sites.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


def security_headers(websocket_origin: str | None = None) -> dict[str, str]:
    """``SECURITY_HEADERS``, letting the pages also connect to the live WebSocket API's origin
    where one is configured (Lambda: API Gateway serves it on a host of its own)."""
    if not websocket_origin:
        return SECURITY_HEADERS
    policy = CONTENT_SECURITY_POLICY.replace("connect-src 'self'", f"connect-src 'self' {websocket_origin}")
    return {**SECURITY_HEADERS, "Content-Security-Policy": policy}
