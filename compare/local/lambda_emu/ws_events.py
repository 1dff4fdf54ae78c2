"""API Gateway WebSocket API events (the v1 shape Lambda receives for $connect, $default, $disconnect).

The shape is the one API Gateway sends to a Lambda proxy integration of a WebSocket API: a
`requestContext` naming the route, the event type and the connection, `headers` and the query
string on $connect only, `body` on a message. Identifiers look like API Gateway's: base64 of
random bytes ending in '=' (URL-safe alphabet, so an id can sit in an @connections path as is).
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

STAGE = "api"
API_ID = "local"

# disconnectReason by code: 1000 and 1005 are API Gateway's own words (its logs show them); the
# others are ours, after RFC 6455's meaning of the code. A client's own close reason wins.
DISCONNECT_REASONS = {
    1000: "Connection Closed Normally",
    1001: "Going away",
    1003: "Unsupported data",
    1005: "Client-side close frame status not set",
    1006: "Connection lost",
    1009: "Message too big",
}


def new_id() -> str:
    """An id shaped like API Gateway's connection and request ids: 11 random bytes → 16 characters."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode("ascii")


def clf_time(epoch_s: float) -> str:
    """requestTime: Common Log Format in UTC, e.g. 09/Feb/2024:18:11:43 +0000."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_s))


@dataclass(frozen=True)
class ConnectionInfo:
    """What every event of one connection repeats about it."""

    connection_id: str
    connected_at_ms: int
    source_ip: str
    user_agent: str | None
    domain_name: str
    stage: str = STAGE
    api_id: str = API_ID


def _context(info: ConnectionInfo, route_key: str, event_type: str, **extra: Any) -> dict[str, Any]:
    now = time.time()
    request_id = new_id()
    return {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": clf_time(now),
        "messageDirection": "IN",
        "stage": info.stage,
        "connectedAt": info.connected_at_ms,
        "requestTimeEpoch": int(now * 1000),
        "identity": {"sourceIp": info.source_ip, "userAgent": info.user_agent},
        "requestId": request_id,
        "domainName": info.domain_name,
        "connectionId": info.connection_id,
        "apiId": info.api_id,
        **extra,
    }


def _multi(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return multi


def connect_event(
    info: ConnectionInfo, headers: Sequence[tuple[str, str]], query: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    """$connect: the upgrade request's headers (plus the X-Forwarded-* API Gateway adds) and query."""
    pairs = [*headers, ("X-Forwarded-For", info.source_ip), ("X-Forwarded-Proto", "http")]
    multi_headers = _multi(pairs)
    event: dict[str, Any] = {
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "requestContext": _context(info, "$connect", "CONNECT"),
        "isBase64Encoded": False,
    }
    if query:
        multi_query = _multi(query)
        event["queryStringParameters"] = {name: values[-1] for name, values in multi_query.items()}
        event["multiValueQueryStringParameters"] = multi_query
    return event


def message_event(info: ConnectionInfo, body: str) -> dict[str, Any]:
    """$default (MESSAGE): one text message from the client."""
    return {
        "requestContext": _context(info, "$default", "MESSAGE", messageId=new_id()),
        "body": body,
        "isBase64Encoded": False,
    }


def disconnect_event(info: ConnectionInfo, status_code: int, reason: str) -> dict[str, Any]:
    """$disconnect: after the connection is gone (it can no longer be posted to)."""
    headers = {"Host": info.domain_name, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
    return {
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": _context(
            info,
            "$disconnect",
            "DISCONNECT",
            disconnectStatusCode=status_code,
            disconnectReason=reason,
        ),
        "isBase64Encoded": False,
    }


def integration_error(info: ConnectionInfo, request_id: str) -> str:
    """The frame API Gateway sends the client when a message's integration fails."""
    return json.dumps(
        {"message": "Internal server error", "connectionId": info.connection_id, "requestId": request_id}
    )
