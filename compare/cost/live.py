"""What the pages' live streams amount to in a month: derived from the census and the café.

The census counted, for each page kind following a café that pushes, how many streams it opens
(per order, or per opening of a screen), how long it holds them, the current state it is sent on
subscribing and the messages each order's changes bring it. A profile says how many orders, how
long a customer tracks, how many screens are open and for how long. Multiplied:

    customer   subscriptions = orders × streams per order
               stream length = tracked minutes × held share
               messages      = orders × (state on subscribing + change messages per order)
    screen     subscriptions = screens × open days × streams per opening
               stream length = screen hours × 60 × held share
               messages      = openings × state on subscribing + orders × change messages per order × screens

How each runtime carries these (server-sent events through the ALB, or API Gateway's WebSocket
API for Lambda) and what that costs is for ``push_lambda`` and ``push_servers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from compare.census.routes import STREAM_ROUTE
from compare.cost.census_file import PushCensus
from compare.cost.dynamodb_units import Queue, representative_sizes

if TYPE_CHECKING:
    from compare.cost.traffic import CafeShape

__all__ = ["STREAM_ROUTE", "Live", "PageLive", "derive_live", "message_bytes"]

# The SSE framing around a message's JSON ("data: " … "\n\n") and the heartbeat comment line,
# as cafe.live.asgi writes them.
SSE_FRAME_BYTES = len(b"data: ") + len(b"\n\n")
SSE_HEARTBEAT_BYTES = len(b": heartbeat\n\n")


@dataclass(frozen=True)
class PageLive:
    """One page kind's streams in a month."""

    channel: str  # "order", "board" or "queue"
    subscriptions: float  # streams opened (each starts with the current state)
    hold_minutes: float  # how long one stream stays open
    state_messages: float  # the current state sent on subscribing
    change_messages: float  # messages carrying the orders' changes

    @property
    def held_minutes(self) -> float:
        return self.subscriptions * self.hold_minutes

    @property
    def messages(self) -> float:
        return self.state_messages + self.change_messages


@dataclass(frozen=True)
class Live:
    """The café's live streams in a month, by page kind."""

    pages: dict[str, PageLive]
    feed_changes: float  # change-feed events (each order's placement and transitions)
    heartbeat_s: float
    websocket_ping_s: float
    transport: str  # what the census's pages followed ("sse")

    @property
    def subscriptions(self) -> float:
        return sum(p.subscriptions for p in self.pages.values())

    @property
    def held_minutes(self) -> float:
        return sum(p.held_minutes for p in self.pages.values())

    @property
    def messages(self) -> float:
        return sum(p.messages for p in self.pages.values())

    def heartbeats(self) -> float:
        """Heartbeats on the streams, at most (one only after ``heartbeat_s`` without a message)."""
        return self.held_minutes * 60.0 / self.heartbeat_s if self.heartbeat_s else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "transport_counted": self.transport,
            "subscriptions": round(self.subscriptions, 1),
            "stream_minutes": round(self.held_minutes, 1),
            "messages": round(self.messages, 1),
            "feed_changes": round(self.feed_changes, 1),
            "heartbeats_at_most": round(self.heartbeats(), 1),
            "by_page": {
                name: {
                    "channel": p.channel,
                    "subscriptions": round(p.subscriptions, 1),
                    "minutes_per_stream": round(p.hold_minutes, 3),
                    "state_messages": round(p.state_messages, 1),
                    "change_messages": round(p.change_messages, 1),
                }
                for name, p in self.pages.items()
            },
            "label": "modeled from the census's streams (counted from the pages) and the profile's café",
        }


def derive_live(push: PushCensus, shape: CafeShape, monthly_orders: float, open_days: float) -> Live:
    """The month's streams for ``monthly_orders`` orders over ``open_days`` days (module docstring)."""
    pages: dict[str, PageLive] = {}
    customer = push.streams["customer"]
    pages["customer"] = PageLive(
        channel=customer.channel,
        subscriptions=monthly_orders * customer.per_unit,
        hold_minutes=shape.tracked_minutes * customer.held_share / max(customer.per_unit, 1.0),
        state_messages=monthly_orders * customer.messages_on_subscribe,
        change_messages=monthly_orders * customer.messages_per_order,
    )
    for page, screens in (("barista", shape.barista_tablets), ("board", shape.boards)):
        stream = push.streams[page]
        openings = screens * open_days
        pages[page] = PageLive(
            channel=stream.channel,
            subscriptions=openings * stream.per_unit,
            hold_minutes=shape.screen_hours * 60.0 * stream.held_share / max(stream.per_unit, 1.0),
            state_messages=openings * stream.messages_on_subscribe,
            change_messages=monthly_orders * stream.messages_per_order * screens,
        )
    return Live(
        pages=pages,
        feed_changes=monthly_orders * push.feed_changes_per_order,
        heartbeat_s=push.heartbeat_s,
        websocket_ping_s=push.websocket_ping_s,
        transport=push.transport,
    )


def message_bytes(queue: Queue) -> dict[str, int]:
    """Bytes of one message of each channel (the JSON the hub sends), from the store's own order:
    an order's message is ``GET /orders/{id}``; the board lists the numbers preparing and ready;
    the queue lists every waiting and ready order with the store's settings (Little's law says
    how many: ``queue``)."""
    order = representative_sizes().order_json
    shown = max(1, round(queue.waiting + queue.ready))
    return {
        "order": len('{"type":"order","order":}') + order,
        "board": len('{"type":"board","board":{"preparing":[],"ready":[]}}') + 4 * shown,
        "queue": len(
            '{"type":"queue","queue":{"orders":[]},"store":{"open":true,"max_waiting":20,"waiting":0}}'
        )
        + shown * (order + 1),
    }
