"""The push contract as an AsyncAPI 3.0 document (``GET /asyncapi.json``), built by hand like
``cafe.api.openapi`` and sharing its schemas, so a pushed order is the very ``Order`` that
``GET /orders/{id}`` answers. The push suite (``tests/push``) validates real messages against it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cafe import __version__
from cafe.api.application import LIVE_EVENTS_PATH
from cafe.api.openapi import SCHEMAS

HEARTBEAT_NOTE = (
    "Between messages the server sends an SSE comment line (': heartbeat') at least every"
    " CAFE_LIVE_HEARTBEAT_SECONDS (15 s), well inside the load balancer's 60 s idle timeout."
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _message(name: str, title: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "contentType": "application/json",
        "payload": payload,
    }


MESSAGES: dict[str, dict[str, Any]] = {
    "order": _message(
        "order",
        "One order, exactly as GET /orders/{order_id} answers it",
        {
            "type": "object",
            "required": ["type", "order"],
            "properties": {"type": {"const": "order"}, "order": _ref("Order")},
        },
    ),
    "board": _message(
        "board",
        "The pickup board, exactly as GET /pickup answers it",
        {
            "type": "object",
            "required": ["type", "board"],
            "properties": {"type": {"const": "board"}, "board": _ref("PickupBoard")},
        },
    ),
    "queue": _message(
        "queue",
        "The barista's queue: GET /orders?status=PLACED,PREPARING,READY&limit=500 and GET /store",
        {
            "type": "object",
            "required": ["type", "queue", "store"],
            "properties": {
                "type": {"const": "queue"},
                "queue": _ref("OrderList"),
                "store": _ref("Store"),
            },
        },
    ),
}

SUBSCRIBE_ERRORS = (
    "Refused before the stream starts, with the usual JSON error document: 422 for a missing or"
    " unknown channel or parameter, 404 for an unknown order, 401/403/429 for the queue without"
    " a valid staff token (the same lockout as every staff call), 503 when the order book does"
    " not answer."
)


def _channel(address: str, description: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "address": address,
        "description": description,
        "messages": {message: {"$ref": f"#/components/messages/{message}"}},
        **extra,
    }


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Café Compute live updates",
            "version": __version__,
            "description": (
                'Ask GET /live first: {"transport": "sse", "url"} where this runtime pushes'
                ' (Fargate, EC2 on a store that keeps a change feed), {"transport": "none"}'
                " elsewhere (Lambda): then poll the GET endpoints, whose answers have the same"
                " shapes. Subscribe with GET <url>?order_id=<id> | ?channel=board |"
                " ?channel=queue (staff Authorization header), Accept: text/event-stream. Each"
                " SSE event's data is one JSON message; a new subscriber first gets the current"
                " state, then each change once, in order. " + HEARTBEAT_NOTE + " After a dropped"
                " connection, reconnect and resync with one GET: the first message is the"
                " current state anyway. " + SUBSCRIBE_ERRORS
            ),
        },
        "defaultContentType": "application/json",
        "channels": {
            "order": _channel(
                LIVE_EVENTS_PATH + "?order_id={order_id}",
                "One order (its id is the capability, as for GET /orders/{order_id})",
                "order",
                parameters={"order_id": {"description": "The order's id"}},
            ),
            "board": _channel(
                LIVE_EVENTS_PATH + "?channel=board", "The public pickup board (numbers only)", "board"
            ),
            "queue": _channel(
                LIVE_EVENTS_PATH + "?channel=queue",
                "The staff queue and the store settings; needs Authorization: Bearer <staff token>",
                "queue",
            ),
        },
        "operations": {
            f"receive_{name}": {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{name}"},
                "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
                **(
                    {"security": [{"$ref": "#/components/securitySchemes/staffToken"}]}
                    if name == "queue"
                    else {}
                ),
            }
            for name in MESSAGES
        },
        "components": {
            "messages": MESSAGES,
            "schemas": SCHEMAS,
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer"}},
        },
    }
