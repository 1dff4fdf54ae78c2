"""A request's URL → the route template of ``cafe.api.routes.ROUTES`` ("GET /orders/{order_id}")."""

from __future__ import annotations

from urllib.parse import urlsplit

from cafe.api.application import LIVE_EVENTS_PATH
from cafe.api.routes import resolve

#: The live stream (server-sent events): served by the ASGI adapter beside the route table.
STREAM_ROUTE = f"GET {LIVE_EVENTS_PATH}"


def route_key(method: str, url_or_path: str) -> str:
    """``"<METHOD> <template>"`` for a URL or path; an unrouted path keeps its own path, marked."""
    path = urlsplit(url_or_path).path or "/"
    if method == "GET" and path == LIVE_EVENTS_PATH:
        return STREAM_ROUTE
    found, _ = resolve(method, path)
    if found is None:
        return f"{method} UNROUTED {path}"
    return f"{method} {found.template}"
