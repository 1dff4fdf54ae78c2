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

# Over a WebSocket (Lambda: API Gateway's WebSocket API) the client also sends frames, and is
# answered a refusal or a pong as a message of its own.
_ORDER_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
WEBSOCKET_MESSAGES: dict[str, dict[str, Any]] = {
    "subscribe": _message(
        "subscribe",
        "Client → server: subscribe to one order, the board, or (with the staff token) the queue",
        {
            "oneOf": [
                {
                    "type": "object",
                    "required": ["action", "order_id"],
                    "additionalProperties": False,
                    "properties": {"action": {"const": "subscribe"}, "order_id": _ORDER_ID},
                },
                {
                    "type": "object",
                    "required": ["action", "channel"],
                    "additionalProperties": False,
                    "properties": {"action": {"const": "subscribe"}, "channel": {"const": "board"}},
                },
                {
                    "type": "object",
                    "required": ["action", "channel", "token"],
                    "additionalProperties": False,
                    "properties": {
                        "action": {"const": "subscribe"},
                        "channel": {"const": "queue"},
                        "token": {"type": "string"},
                    },
                },
            ]
        },
    ),
    "ping": _message(
        "ping",
        "Client → server: keep the connection alive (API Gateway closes it after 10 idle minutes)",
        {
            "type": "object",
            "required": ["action"],
            "additionalProperties": False,
            "properties": {"action": {"const": "ping"}},
        },
    ),
    "pong": _message(
        "pong",
        "The answer to a ping",
        {"type": "object", "required": ["type"], "properties": {"type": {"const": "pong"}}},
    ),
    "error": _message(
        "error",
        "A refused frame, with the code the HTTP API answers the same refusal with",
        {
            "type": "object",
            "required": ["type", "status", "error"],
            "properties": {
                "type": {"const": "error"},
                "status": {"type": "integer", "description": "the HTTP API's status for the same refusal"},
                "error": SCHEMAS["Error"]["properties"]["error"],
            },
        },
    ),
}
WEBSOCKET_NOTE = (
    'Where GET /live answers {"transport": "websocket", "url"} (Lambda), open a WebSocket to url'
    " and send one JSON text frame per subscription (the websocket channel; up to 10 per"
    " connection); each message then arrives as one text frame. A refused frame is answered"
    " with an error message carrying the HTTP API's status and code (validation_failed, malformed_request,"
    " payload_too_large, order_not_found, authentication_required, not_permitted,"
    " staff_locked_out, too_many_subscriptions, unavailable). API Gateway closes a connection"
    " after 10 idle minutes and any after 2 hours: ping every few minutes, and on close"
    " reconnect, subscribe again and take the first message as the current state."
)

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


def _over_websocket(action: str, *messages: str) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": "#/channels/websocket"},
        "messages": [{"$ref": f"#/channels/websocket/messages/{name}"} for name in messages],
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
                ' itself (Fargate, EC2 on a store that keeps a change feed), {"transport":'
                ' "websocket", "url"} where API Gateway holds the connections (Lambda), {"transport":'
                ' "none"} elsewhere: then poll the GET endpoints, whose answers have the same'
                " shapes. SSE: subscribe with GET <url>?order_id=<id> | ?channel=board |"
                " ?channel=queue (staff Authorization header), Accept: text/event-stream. Each"
                " SSE event's data is one JSON message; a new subscriber first gets the current"
                " state, then each change once, in order. " + HEARTBEAT_NOTE + " After a dropped"
                " connection, reconnect and resync with one GET: the first message is the"
                " current state anyway. " + SUBSCRIBE_ERRORS + " " + WEBSOCKET_NOTE
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
            "websocket": {
                # The URL is the deployment's: GET /live names it.
                "address": None,
                "description": "One WebSocket connection: the url GET /live answers with transport websocket",
                "messages": {
                    name: {"$ref": f"#/components/messages/{name}"}
                    for name in (*WEBSOCKET_MESSAGES, *MESSAGES)
                },
            },
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
        }
        | {
            "send_subscribe": _over_websocket("send", "subscribe"),
            "send_ping": _over_websocket("send", "ping"),
            "receive_over_websocket": _over_websocket("receive", "order", "board", "queue", "error", "pong"),
        },
        "components": {
            "messages": {**MESSAGES, **WEBSOCKET_MESSAGES},
            "schemas": SCHEMAS,
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer"}},
        },
    }
