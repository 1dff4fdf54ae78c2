"""The API's route table: one list that every runtime registers and the OpenAPI document reads."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cafe.errors import NotFound


class RouteNotFound(NotFound):
    code = "route_not_found"


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # e.g. /orders/{order_id}
    handler: str  # method name on CafeApi
    summary: str
    staff: bool = False
    json: bool = True  # False for the web pages and static files

    @cached_property
    def segments(self) -> tuple[str, ...]:
        return split_path(self.template)

    @property
    def parameters(self) -> tuple[str, ...]:
        return tuple(s[1:-1] for s in self.segments if s.startswith("{"))

    def match_parts(self, parts: tuple[str, ...]) -> dict[str, str] | None:
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for pattern, part in zip(self.segments, parts, strict=True):
            if pattern.startswith("{"):
                if not part:
                    return None
                params[pattern[1:-1]] = part
            elif pattern != part:
                return None
        return params


def split_path(path: str) -> tuple[str, ...]:
    stripped = path.strip("/")
    return tuple(stripped.split("/")) if stripped else ()


ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "health", "Which runtime answered, and its version"),
    Route("GET", "/menu", "menu", "The menu with prices, options and availability"),
    Route("PATCH", "/menu/{item_id}", "update_menu_item", "Mark an item sold out or available", staff=True),
    Route("POST", "/orders", "place_order", "Place an order (Idempotency-Key header recommended)"),
    Route(
        "GET", "/orders", "list_orders", "The queue: orders in the given statuses, oldest first", staff=True
    ),
    Route("GET", "/orders/{order_id}", "get_order", "One order (ETag / If-None-Match supported)"),
    Route("POST", "/orders/{order_id}/cancel", "cancel_order", "Customer cancels while PLACED"),
    Route("POST", "/orders/{order_id}/status", "change_status", "Barista moves an order on", staff=True),
    Route("GET", "/pickup", "pickup_board", "Numbers preparing and ready, for the shop's screen (no names)"),
    Route("GET", "/store", "get_store", "Store open/closed, queue cap and how many wait"),
    Route("PUT", "/store", "put_store", "Open or close the store, set the queue cap", staff=True),
    Route("GET", "/openapi.json", "openapi", "This document"),
    Route("GET", "/live", "live", "How to receive changes by push here (SSE), or none: poll"),
    Route("GET", "/asyncapi.json", "asyncapi", "The push contract (AsyncAPI 3.0)"),
    Route("GET", "/", "customer_page", "Customer page", json=False),
    Route("GET", "/barista", "barista_page", "Barista page", json=False),
    Route("GET", "/board", "board_page", "Pickup board", json=False),
    Route("GET", "/static/{name}", "static_file", "Static assets of the pages", json=False),
)


def resolve(method: str, path: str) -> tuple[Route, dict[str, str]] | tuple[None, list[str]]:
    """The route and its path parameters, or None and the methods the path does allow."""
    exact = EXACT_ROUTES.get((method, path))
    if exact is not None:
        return exact, {}
    return _scan(method, path)


def _scan(method: str, path: str) -> tuple[Route, dict[str, str]] | tuple[None, list[str]]:
    allowed: list[str] = []
    if path != "/" and path.endswith("/"):
        return None, allowed
    parts = split_path(path)  # once, not once per route: this runs on every request
    for route in ROUTES:
        params = route.match_parts(parts)
        if params is None:
            continue
        if route.method == method:
            return route, params
        allowed.append(route.method)
    return None, allowed


# The parameterless paths answered by one dict lookup (GET /menu is the most frequent request);
# each entry is what the scan itself resolves that path to, so the two cannot disagree.
EXACT_ROUTES: dict[tuple[str, str], Route] = {
    (route.method, route.template): found
    for route in ROUTES
    if not route.parameters
    for found in [_scan(route.method, route.template)[0]]
    if found is not None
}
