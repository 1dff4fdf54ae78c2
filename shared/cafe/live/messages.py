"""The live messages, one JSON object each: the same text whatever carries it (an SSE event's
``data:`` from ``cafe.live.hub``, a WebSocket text frame from ``cafe.live.websocket``).

Each is built from the public shapes the GET endpoints answer (``cafe.api.asyncapi``), encoded
as ``json_response`` encodes them, so a client that falls back to polling reads the same bytes:

- ``order``: ``GET /orders/{id}``'s body (``Order.as_json``, which is also the feed's copy);
- ``board``: ``GET /pickup``;
- ``queue``: ``GET /orders?status=PLACED,PREPARING,READY&limit=500`` and ``GET /store``.

The readers here are plain calls to the service (they raise its store errors); the hub runs them
off its event loop when the store's calls wait on the network.
"""

from __future__ import annotations

import json
from typing import Any

from cafe.domain.orders import Status
from cafe.service import CafeService

# What the barista's queue shows (the page's three columns) and how many per status.
QUEUE_STATUSES = (Status.PLACED, Status.PREPARING, Status.READY)
QUEUE_LIMIT_PER_STATUS = 500


def _json(document: Any) -> str:
    """The encoding ``json_response`` uses, so a message's parts are the GET answers' bytes."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def order_message(order_json: str) -> str:
    """An ``order`` message around the order's JSON as ``GET /orders/{id}`` answers it."""
    return '{"type":"order","order":' + order_json + "}"


def board_message(service: CafeService) -> str:
    """The pickup board as it is now (one store read)."""
    return '{"type":"board","board":' + _json(service.pickup_board()) + "}"


def queue_message(service: CafeService) -> str:
    """The barista's queue and the store settings as they are now (two store reads)."""
    orders = service.orders_in(QUEUE_STATUSES, QUEUE_LIMIT_PER_STATUS)
    store = service.settings()
    return (
        '{"type":"queue","queue":'
        + _json({"orders": [order.to_dict() for order in orders]})
        + ',"store":'
        + _json(store)
        + "}"
    )


def current(service: CafeService, channel: str, order_id: str = "") -> tuple[str, int | str]:
    """What a fresh subscriber of ``channel`` gets first, and its marker: the order's version,
    or the board's / queue's text (what the hub compares later messages with)."""
    if channel == "order":
        order = service.get_order(order_id)
        return order_message(order.as_json), order.version
    message = board_message(service) if channel == "board" else queue_message(service)
    return message, message


def error_message(error: Any, status: int) -> str:
    """A refusal, ``{"type":"error","status":404,"error":{...}}``: the HTTP answer's status and the
    error object of its body, so a client tells a refused subscription (401, 403, 404, 429: asking
    again is refused again) from a passing one (503: try again later)."""
    return '{"type":"error","status":' + str(int(status)) + ',"error":' + _json(error) + "}"


PONG = '{"type":"pong"}'
