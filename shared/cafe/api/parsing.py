"""Turning request bodies into service calls: JSON shape and types, nothing else.

Ranges and business rules (quantities, customer length, options) are the domain's; this
module only checks that the JSON is JSON and that fields have the right types.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from cafe.api.http import MAX_BODY_BYTES, Request
from cafe.domain.orders import StaleVersion, Status
from cafe.errors import InvalidInput, MalformedRequest, PayloadTooLarge
from cafe.service import CUSTOMER_MAX_LENGTH, LineRequest, OrderRequest

# An order version as the ETag spells it (ASCII digits; an order never nears a billion changes).
VERSION = re.compile(r"[0-9]{1,9}")


class ValidationFailed(InvalidInput):
    code = "validation_failed"


def json_body(request: Request) -> dict[str, Any]:
    return json_object(request.body, MAX_BODY_BYTES, "request body")


def json_object(raw: bytes, limit: int, what: str) -> dict[str, Any]:
    """``raw`` as a JSON object, refused past ``limit`` bytes before parsing (``what`` names it)."""
    if len(raw) > limit:
        raise PayloadTooLarge(f"{what} is over {limit} bytes", {"limit": limit})
    try:
        document = json.loads(raw or b"null")
    except ValueError as exc:  # not UTF-8, not JSON, or an integer of thousands of digits
        raise MalformedRequest(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:  # a few KiB of "[[[[..." nests deeper than the parser's stack
        raise MalformedRequest(f"{what} nests too deeply") from None
    if not isinstance(document, dict):
        raise MalformedRequest(f"{what} must be a JSON object")
    return document


def _field(document: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    path = f"{where}{name}"
    if name not in document:
        raise ValidationFailed(f"{path} is required", {"field": path})
    value = document[name]
    # JSON has one number type: 2.0 is the integer 2 (as JSON Schema's "integer" says).
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    # bool is an int in Python; a JSON true is never a quantity.
    if isinstance(value, bool) and kind is not bool:
        raise ValidationFailed(f"{path} has the wrong type", {"field": path})
    if not isinstance(value, kind):
        raise ValidationFailed(f"{path} has the wrong type", {"field": path})
    return value


def _no_unknown_fields(document: dict[str, Any], allowed: set[str], where: str = "") -> None:
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise ValidationFailed(f"unknown field {where}{unknown[0]}", {"field": f"{where}{unknown[0]}"})


def order_request(request: Request) -> OrderRequest:
    document = json_body(request)
    _no_unknown_fields(document, {"customer", "items"})
    customer = _field(document, "customer", str)
    if len(customer) > CUSTOMER_MAX_LENGTH:  # as sent: the domain then strips and checks the rest
        raise ValidationFailed(f"customer is over {CUSTOMER_MAX_LENGTH} characters", {"field": "customer"})
    raw_lines = _field(document, "items", list)
    lines = []
    for index, raw in enumerate(raw_lines[:21]):  # over 20 is refused by the domain; parse no more
        where = f"items[{index}]."
        if not isinstance(raw, dict):
            raise ValidationFailed(f"items[{index}] must be an object", {"field": f"items[{index}]"})
        _no_unknown_fields(raw, {"item_id", "quantity", "options"}, where)
        options = raw.get("options", {})
        if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
            raise ValidationFailed(f"{where}options must map names to strings", {"field": f"{where}options"})
        lines.append(
            LineRequest(
                item_id=_field(raw, "item_id", str, where),
                quantity=_field(raw, "quantity", int, where),
                options=dict(options),
            )
        )
    return OrderRequest(customer=customer, lines=tuple(lines))


def status_change(request: Request) -> Status:
    document = json_body(request)
    _no_unknown_fields(document, {"status"})
    value = _field(document, "status", str)
    try:
        return Status(value)
    except ValueError:
        raise ValidationFailed(
            f"status must be one of {', '.join(s.value for s in Status)}", {"field": "status"}
        ) from None


def expected_version(request: Request, order_id: str) -> int | None:
    """The order version an ``If-Match`` names (the order's ETag ``"<id>.<version>"``), or None.

    ``*`` or no header: any version. A header naming no version of this order can never match,
    so the change is refused as stale (412), as HTTP says of a failed If-Match.
    """
    header = request.header("if-match")
    if header is None or header.strip() == "*":
        return None
    prefix = f'"{order_id}.'
    versions = {
        tag[len(prefix) : -1]
        for tag in (part.strip() for part in header.split(","))
        if tag.startswith(prefix) and tag.endswith('"')
    }
    numbers = [int(version) for version in versions if VERSION.fullmatch(version)]
    if len(numbers) != 1 or numbers[0] < 1:
        raise StaleVersion(
            "If-Match names no single version of this order; reload it and try again",
            {"field": "If-Match"},
        )
    return numbers[0]


def store_settings(request: Request) -> tuple[bool, int]:
    document = json_body(request)
    _no_unknown_fields(document, {"open", "max_waiting"})
    return _field(document, "open", bool), _field(document, "max_waiting", int)


def availability(request: Request) -> bool:
    document = json_body(request)
    _no_unknown_fields(document, {"available"})
    return bool(_field(document, "available", bool))


_ONE_STATUS = "|".join(status.value for status in Status)
# ``?status=`` as the OpenAPI document states it: statuses joined by commas, or nothing.
STATUS_LIST = re.compile(f"^(?:(?:{_ONE_STATUS})(?:,(?:{_ONE_STATUS}))*)?$")
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def statuses(request: Request) -> list[Status]:
    """``?status=PLACED`` or a comma-separated list; the waiting statuses when absent."""
    raw = request.query.get("status")
    if not raw:
        return [Status.PLACED, Status.PREPARING]
    if not STATUS_LIST.fullmatch(raw):
        raise ValidationFailed(
            f"status must be among {', '.join(s.value for s in Status)}, comma-separated", {"field": "status"}
        )
    return [Status(part) for part in raw.split(",")]


def limit(request: Request) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    # isdigit() alone accepts "²" and thousands of digits, which int() refuses.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6) or not 1 <= int(raw) <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be an integer 1–{MAX_LIMIT}", {"field": "limit"})
    return int(raw)


# The live stream's channels (cafe.live): one order (its id is the capability), the public
# pickup board, the staff queue.
LIVE_CHANNELS = ("order", "board", "queue")
# An order id as new_order_id makes them (22 URL-safe characters); anything near it is looked up.
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def live_channel(request: Request) -> tuple[str, str]:
    """``?order_id=<id>``, ``?channel=board`` or ``?channel=queue`` → (channel, order id or "")."""
    unknown = sorted(set(request.query) - {"channel", "order_id"})
    if unknown:
        raise ValidationFailed(f"unknown parameter {unknown[0]!r}", {"field": unknown[0]})
    return _live_target(request.query.get("channel"), request.query.get("order_id"))


def _live_target(channel: str | None, order_id: str | None) -> tuple[str, str]:
    if order_id is not None:
        if channel not in (None, "order"):
            raise ValidationFailed("give either order_id or channel=board|queue", {"field": "channel"})
        if not ORDER_ID.fullmatch(order_id):
            raise ValidationFailed("order_id is not an order id", {"field": "order_id"})
        return "order", order_id
    if channel is None:
        raise ValidationFailed("give order_id=<id>, channel=board or channel=queue", {"field": "channel"})
    if channel not in ("board", "queue"):
        raise ValidationFailed(
            "channel must be board or queue (or give order_id)",
            {"field": "channel", "allowed": ["board", "queue"]},
        )
    return channel, ""


# A WebSocket client's frames (cafe.live.websocket). A subscription is a few dozen bytes;
# parsing no more than this keeps a flood of big frames cheap to refuse.
MAX_FRAME_BYTES = 4096
LIVE_ACTIONS = ("subscribe", "ping")


@dataclass(frozen=True)
class LiveFrame:
    """One client frame: ``subscribe`` (to a channel, and for the queue a staff token) or ``ping``."""

    action: str
    channel: str = ""
    order_id: str = ""
    token: str | None = None


def live_frame(raw: bytes) -> LiveFrame:
    """``{"action":"subscribe","order_id":…}`` | ``{"action":"subscribe","channel":"board"}`` |
    ``{"action":"subscribe","channel":"queue","token":…}`` | ``{"action":"ping"}``, refused by
    the same rules (and codes) as ``live_channel`` and request bodies."""
    document = json_object(raw, MAX_FRAME_BYTES, "message")
    action = _field(document, "action", str)
    if action not in LIVE_ACTIONS:
        raise ValidationFailed(
            f"action must be {' or '.join(LIVE_ACTIONS)}", {"field": "action", "allowed": list(LIVE_ACTIONS)}
        )
    if action == "ping":
        _no_unknown_fields(document, {"action"})
        return LiveFrame("ping")
    _no_unknown_fields(document, {"action", "channel", "order_id", "token"})
    present = {
        name: _field(document, name, str) for name in ("channel", "order_id", "token") if name in document
    }
    channel, order_id = _live_target(present.get("channel"), present.get("order_id"))
    token = present.get("token")
    if token is not None and channel != "queue":
        raise ValidationFailed("token is only for channel=queue", {"field": "token"})
    return LiveFrame("subscribe", channel, order_id, token)
