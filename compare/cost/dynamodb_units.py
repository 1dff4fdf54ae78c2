"""DynamoDB read and write units per route, as the deployed store makes its calls.

``CALLS`` lists the calls each route makes (held to the code by tests/cost/test_traffic.py, which
counts them through botocore against moto). The units each call consumes follow DynamoDB's
on-demand rules: a strongly consistent read costs 1 RRU per 4 KB of item, an eventually
consistent one (every index query) half that; a write costs 1 WRU per KB of the larger of the old
and new item, doubled inside a transaction; a write that changes an index key also writes the
index (a delete and a put of the projected item, which is the whole item here).

Item sizes are not typed: they are computed with DynamoDB's size rules from items the store's own
code builds for a representative order (``representative_sizes``). How many orders a query or
the queue's set returns depends on the café: Little's law (orders waiting = arrival rate × wait).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

# Calls per route, the customer's placement with its Idempotency-Key (as the pages send it).
# A status change or cancel of an order the runtime has seen is one PutItem instead of one
# UpdateItem: the same units.
CALLS: dict[str, dict[str, int]] = {
    "GET /menu": {"GetItem": 1},
    "POST /orders": {"GetItem": 1, "UpdateItem": 1, "TransactWriteItems": 1},
    "GET /orders/{order_id}": {"GetItem": 1},
    "POST /orders/{order_id}/cancel": {"UpdateItem": 1},
    "POST /orders/{order_id}/status": {"UpdateItem": 1},
    "GET /orders": {"Query": 1},
    "GET /pickup": {"Query": 1},
    "GET /store": {"Query": 1, "BatchGetItem": 1},
    "PUT /store": {"UpdateItem": 1, "Query": 1, "BatchGetItem": 1},
    "PATCH /menu/{item_id}": {"UpdateItem": 1},
}
# The reads behind live push (cafe.live.hub, and the Lambda stream handler built like it): a new
# subscriber's current state, and the board or the queue read again after a batch of changes (an
# order's own change travels in the feed, unread).
LIVE_CALLS: dict[str, dict[str, int]] = {
    "order": {"GetItem": 1},
    "board": {"Query": 1},
    "queue": {"Query": 2, "BatchGetItem": 1},
}
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes DynamoDB bills for an item: attribute names plus values (its documented rules)."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, content),) = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "N":
        digits = str(content).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(member).encode()) for member in content)
    if kind == "L":
        return 3 + sum(1 + _value_size(member) for member in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + 1 + _value_size(member) for name, member in content.items())
    raise ValueError(f"no size rule for DynamoDB type {kind}")


@dataclass(frozen=True)
class Sizes:
    """Bytes of the items the café's calls touch, from the store's own item builders."""

    order_placed: int
    order_completed: int
    record: int
    store_item: int
    id_in_set: int
    order_json: int  # the order as GET /orders/{id} answers it (placed and completed, averaged)


@cache
def representative_sizes() -> Sizes:
    """A two-line order with options, placed and then moved to COMPLETED, as the store writes it."""
    from cafe.domain.menu import load_menu
    from cafe.domain.orders import Order, OrderLine, Status, StatusChange, Transition, new_order_id
    from cafe.stores.dynamodb import _order_item
    from cafe.stores.dynamodb_items import COUNTER_PREFIX, number_attr, record_key, settings_key, string_attr

    menu = load_menu()
    lines = []
    for item_id, options in (("cafe-latte", {"milk": "oat"}), ("americano", {})):
        item = menu.item(item_id)
        chosen, price = item.price_with(options)
        lines.append(OrderLine(item.id, item.name, 1, chosen, price))
    now = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    placed = Order(
        new_order_id(), "김민수", tuple(lines), "KRW", "2026-12-04", (StatusChange(Status.PLACED, now),), 42
    )
    completed = placed
    for status in (Status.PREPARING, Status.READY, Status.COMPLETED):
        completed = Transition(status, now)(completed)
    record = {
        **record_key("3f1c2a9e-6d1b-4a51-9f0e-2b7c8d4e5a61"),
        "fingerprint": string_attr("0" * 64),
        "order": string_attr(placed.as_json),
        "expiration": number_attr(1_796_400_000),
    }
    store = {
        **settings_key(),
        "open": {"BOOL": True},
        "max_waiting": number_attr(20),
        COUNTER_PREFIX + "2026-12-04": number_attr(150),
        "sold_out": {"SS": ["plain-bagel"]},
    }
    return Sizes(
        order_placed=item_size(_order_item(placed)),
        order_completed=item_size(_order_item(completed)),
        record=item_size(record),
        store_item=item_size(store),
        id_in_set=len(placed.id) + 1,
        order_json=(len(placed.as_json.encode()) + len(completed.as_json.encode())) // 2,
    )


def _reads(size: int, items: float = 1.0, consistent: bool = True) -> float:
    units = items * max(1, math.ceil(size / READ_UNIT_BYTES))
    return units if consistent else units / 2


def _writes(size: int, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / WRITE_UNIT_BYTES))
    return 2 * units if transactional else units


@dataclass(frozen=True)
class Queue:
    """How many orders the queries and the set see at once (modeled with Little's law)."""

    waiting: float  # PLACED or PREPARING
    ready: float
    ids_in_set: float  # waiting, plus ids of orders that left until a placement prunes the set


def units_per_route(queue: Queue) -> dict[str, tuple[float, float]]:
    """(read units, write units) one request of each route consumes."""
    s = representative_sizes()
    order = (s.order_placed + s.order_completed) // 2
    queue_item = s.id_in_set * math.ceil(queue.ids_in_set) + 40
    index_write = 2 * _writes(order)  # the index key changes: delete and put of the whole item
    store_query = _reads(s.store_item + queue_item)
    batch = _reads(order, queue.ids_in_set) if queue.ids_in_set else 0.0
    return {
        "GET /menu": (_reads(s.store_item), 0.0),
        "POST /orders": (
            _reads(s.record),
            _writes(s.store_item)
            + _writes(queue_item, transactional=True)
            + _writes(s.order_placed, transactional=True)
            + _writes(s.order_placed)  # the new item's index entry
            + _writes(s.record, transactional=True),
        ),
        "GET /orders/{order_id}": (_reads(order), 0.0),
        "POST /orders/{order_id}/cancel": (0.0, _writes(order) + index_write),
        "POST /orders/{order_id}/status": (0.0, _writes(order) + index_write),
        "GET /orders": (_reads(order * max(1, math.ceil(queue.waiting)), consistent=False), 0.0),
        "GET /pickup": (
            _reads(order * max(1, math.ceil(queue.waiting + queue.ready)), consistent=False),
            0.0,
        ),
        "GET /store": (store_query + batch, 0.0),
        "PUT /store": (store_query + batch, _writes(s.store_item)),
        "PATCH /menu/{item_id}": (0.0, _writes(s.store_item)),
    }


def live_read_units(queue: Queue) -> dict[str, float]:
    """Read units of one live read (``LIVE_CALLS``) per channel: the order's current state is
    ``GET /orders/{id}``'s read, the board ``GET /pickup``'s, the queue one index query over the
    waiting and ready orders plus ``GET /store``'s reads."""
    s = representative_sizes()
    order = (s.order_placed + s.order_completed) // 2
    units = units_per_route(queue)
    shown = max(1, math.ceil(queue.waiting + queue.ready))
    return {
        "order": units["GET /orders/{order_id}"][0],
        "board": units["GET /pickup"][0],
        "queue": _reads(order * shown, consistent=False) + units["GET /store"][0],
    }


def monthly_units(by_route: Mapping[str, float], queue: Queue) -> tuple[float, float]:
    """Read and write units a month for ``by_route`` requests; routes without calls cost none."""
    per_route = units_per_route(queue)
    reads = sum(count * per_route.get(route, (0.0, 0.0))[0] for route, count in by_route.items())
    writes = sum(count * per_route.get(route, (0.0, 0.0))[1] for route, count in by_route.items())
    return reads, writes
