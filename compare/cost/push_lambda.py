"""Lambda's live push, priced from its AWS parts.

A Lambda function holds no connection. API Gateway's WebSocket API holds the pages' connections
and invokes the ``$connect``, ``$default`` (each frame a page sends: its subscription, its pings)
and ``$disconnect`` handlers; the order book's DynamoDB stream invokes the stream handler through
an event source mapping, which looks each changed channel's subscribers up in the connections
table, reads the board and the queue where someone watches them, and posts to every subscriber
(chalice_app/app.py → cafe/live/websocket.py; docs/live.md).

What is counted and what is derived (docs/cost-model.md says the same):

- from the census (counted from the pages following a server-sent event stream, the same
  contract): how many streams each page kind opens, how long it holds them, the current state it
  is sent on subscribing and the messages each order's changes bring it;
- from the pages' source: the WebSocket ping interval (``{"action":"ping"}``, answered with a pong);
- from API Gateway's quotas: a connection lasts 2 h at most, after which the page reconnects,
  subscribes again (the current state again) and resynchronises with one refresh of its view;
- from the handlers' code: the DynamoDB calls of each action (``SUBSCRIBE``, ``DISCONNECT``,
  ``MEMBERS``, ``FIRST_CHANGE``, ``ORDER_SUBSCRIBE_READS``, ``VIEW_SUBSCRIBE_READS``; tests/cost
  counts them against moto) and the 16 threads a batch is posted on
  (``cafe.live.poster.POST_WORKERS``);
- derived: messages are the feed's changes × the subscribers of each channel (which is what the
  census counted per page kind), each metered in 32 KB units; the handlers' billed time is the
  profile's (``lambda.ws_handler_ms``, ``lambda.post_ms``: assumptions until measured on AWS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from cafe.live.poster import POST_WORKERS
from compare.cost import feed
from compare.cost.dynamodb_units import (
    READ_UNIT_BYTES,
    WRITE_UNIT_BYTES,
    live_read_units,
    units_per_route,
)
from compare.cost.live import Live, message_bytes
from compare.cost.profile import Profile
from compare.cost.sizing import hourly_orders

#: API Gateway closes a WebSocket connection after 2 hours whatever its traffic (developer guide,
#: WebSocket quotas; reference.md): the page reconnects, resubscribes and resynchronises.
MAX_CONNECTION_MIN = 120.0
#: WebSocket messages are metered in 32 KB units (API Gateway pricing; reference.md).
UNIT_BYTES = 32 * 1024
# The handlers' DynamoDB calls (cafe/live/websocket.py, cafe/live/connections_dynamodb.py), beside
# the reads the SSE hub makes too (dynamodb_units.LIVE_CALLS): held to the code by tests/cost.
#: $connect writes nothing; a subscription adds its channel to the connection's item (UpdateItem)
#: and puts its own item (PutItem).
SUBSCRIBE: dict[str, int] = {"UpdateItem": 1, "PutItem": 1}
#: An order subscription checks the order exists, reads its state, records it, reads it again.
ORDER_SUBSCRIBE_READS = 3
#: A board or queue subscription reads its view, records it (with the digest of that first
#: message), reads it again.
VIEW_SUBSCRIBE_READS = 2
#: $disconnect reads the connection's channels (consistent GetItem) and deletes them and itself.
DISCONNECT: dict[str, int] = {"GetItem": 1, "BatchWriteItem": 1}
#: The stream handler asks for a channel's subscribers: one consistent Query per changed order, and
#: one for the board (a change that moves an order onto, along or off it) and for the queue.
MEMBERS: dict[str, int] = {"Query": 1}
#: The first board or queue the stream handler posts a subscriber (one that differs from its first
#: message) clears that message's digest: one conditional UpdateItem, once per subscription.
FIRST_CHANGE: dict[str, int] = {"UpdateItem": 1}
#: A connections-table item (channel, connection id, since and a 32-character digest, or the
#: channel set; expiration): well under 1 KB, so a write is one unit and a consistent read one
#: unit per ≈ 27 members.
TABLE_ITEM_BYTES = 150
SUBSCRIPTIONS_PER_CONNECTION = 1  # each page follows one view


def _units(message: int) -> int:
    return max(1, math.ceil(message / UNIT_BYTES))


def _members_units(subscribers: float) -> float:
    """One consistent query of a channel's subscriber items."""
    return float(max(1, math.ceil(subscribers * TABLE_ITEM_BYTES / READ_UNIT_BYTES)))


def posts_per_change(profile: Profile) -> int:
    """The posts one order change makes at most: its tracking page, every board, every tablet."""
    return 1 + profile.shape.boards + profile.shape.barista_tablets


def stream_utilisation(profile: Profile) -> float:
    """The stream handler's busy share at the busiest hour (with the schedule's burst). An event
    source mapping hands a shard's batches to one invocation at a time; the handler posts a batch on
    ``POST_WORKERS`` threads. At 1 or more it falls further behind every second."""
    if profile.traffic.live is None or not profile.monthly_orders:
        return 0.0
    per_change = feed.changes_per_order(profile)
    rate = max(hourly_orders(profile)) * profile.schedule.burst_factor * per_change / 3600.0
    batches = feed.POLLS_PER_S * (1.0 - math.exp(-rate / feed.POLLS_PER_S))
    cfg = profile.lambda_
    posting = rate * math.ceil(posts_per_change(profile) / POST_WORKERS) * cfg.post_ms
    return (batches * cfg.ws_handler_ms + posting) / 1000.0


@dataclass(frozen=True)
class LambdaPush:
    """Lambda's live push in a month: what API Gateway, the handlers and the tables do."""

    connections: float
    connection_minutes: float
    messages_in: float  # 32 KB units the pages send (subscriptions, pings)
    messages_out: float  # 32 KB units API Gateway sends them (current state, changes, pongs)
    pings: float
    invocations: dict[str, float]  # "$connect", "$disconnect", "$default", "stream"
    gb_seconds: dict[str, float]
    table_writes: float  # connections table, write request units
    table_reads: float  # connections table, read request units
    order_reads: float  # the order book's read units the handlers add to the hub's
    resync_by_route: dict[str, float]  # REST requests the pages resynchronise with
    stream_polls: float
    stream_busy_peak: float  # the stream handler's busy share at the busiest hour (≥ 1: behind)
    basis: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "websocket_connections": round(self.connections, 1),
            "connection_minutes": round(self.connection_minutes, 1),
            "messages_in_units": round(self.messages_in, 1),
            "messages_out_units": round(self.messages_out, 1),
            "pings": round(self.pings, 1),
            "invocations": {k: round(v, 1) for k, v in self.invocations.items()},
            "gb_seconds": {k: round(v, 3) for k, v in self.gb_seconds.items()},
            "connections_table": {"writes": round(self.table_writes, 1), "reads": round(self.table_reads, 1)},
            "order_book_reads": round(self.order_reads, 1),
            "resync_requests": {k: round(v, 1) for k, v in self.resync_by_route.items()},
            "stream_getrecords": round(self.stream_polls, 1),
            "stream_handler_busy_at_peak": round(self.stream_busy_peak, 4),
            "basis": dict(self.basis),
            "label": "modeled",
        }


def quantities(profile: Profile) -> LambdaPush:
    """The month's WebSocket connections, messages, invocations and table calls (module docstring)."""
    live: Live | None = profile.traffic.live
    if live is None:
        raise ValueError("Lambda push quantities need the traffic in push mode")
    cfg = profile.lambda_
    queue = profile.queue()
    sizes = message_bytes(queue)
    reads = live_read_units(queue)
    route_units = units_per_route(queue)
    gb = cfg.memory_mb / 1024.0
    connections = minutes = pings = units_in = units_out = order_reads = view_connections = 0.0
    resync: dict[str, float] = {}
    for name, page in live.pages.items():
        if page.subscriptions <= 0:
            continue
        # Each 2 h the connection is cut: one more connection, subscription and current state.
        per_subscription = max(1, math.ceil(page.hold_minutes / MAX_CONNECTION_MIN - 1e-9))
        page_connections = page.subscriptions * per_subscription
        page_pings = page.held_minutes * 60.0 / live.websocket_ping_s if live.websocket_ping_s else 0.0
        state_per_connection = page.state_messages / page.subscriptions
        connections += page_connections
        minutes += page.held_minutes
        pings += page_pings
        units_in += page_connections + page_pings  # a subscribe frame and the pings: small
        units_out += (page_connections * state_per_connection + page.change_messages) * _units(
            sizes[page.channel]
        ) + page_pings
        # The hub's current-state read of each first subscription is shared by every runtime
        # (shared_costs); here the resubscriptions' reads, and an order's two extra reads.
        again = page_connections - page.subscriptions
        order_reads += again * reads[page.channel]
        if page.channel == "order":
            order_reads += page_connections * (ORDER_SUBSCRIBE_READS - 2) * reads["order"]
        else:  # the board or the queue read again; its first change posted clears its digest
            order_reads += page_connections * (VIEW_SUBSCRIBE_READS - 1) * reads[page.channel]
            view_connections += page_connections
        for route, count in profile.census.refresh_routes(name).items():
            resync[route] = resync.get(route, 0.0) + again * count
    batches = feed.batches_per_month(profile)
    posts = sum(p.change_messages for p in live.pages.values())
    open_minutes = profile.open_days_per_month * profile.shape.screen_hours * 60.0
    per_change = feed.changes_per_order(profile)
    # After each batch: a members query per changed order; for the board (on the changes that move
    # an order on it, as the board's page counted them) and the queue, a members query and the read.
    lookups = live.feed_changes * _members_units(1)
    for name in ("board", "barista"):
        page = live.pages[name]
        if page.held_minutes <= 0 or not open_minutes:
            continue
        share = 1.0
        if name == "board" and per_change and profile.monthly_orders:
            share = min(
                1.0, page.change_messages / profile.monthly_orders / profile.shape.boards / per_change
            )
        lookups += batches * share * _members_units(page.held_minutes / open_minutes)
        order_reads += batches * share * reads[page.channel]
    order_reads += sum(count * route_units.get(route, (0.0, 0.0))[0] for route, count in resync.items())
    handler_s = cfg.ws_handler_ms / 1000.0
    sized = ", ".join(f"{channel} ≈ {size:,} B" for channel, size in sizes.items())
    invocations = {
        "$connect": connections,
        "$default": units_in,
        "$disconnect": connections,
        "stream": batches,
    }
    gb_seconds = {
        "websocket handlers": (2 * connections + units_in) * handler_s * gb,
        # A batch's posts go out on POST_WORKERS threads: billed for the wall time.
        "stream handler": (batches * handler_s + posts / POST_WORKERS * cfg.post_ms / 1000.0) * gb,
    }
    item_write_units = max(1, math.ceil(TABLE_ITEM_BYTES / WRITE_UNIT_BYTES))
    writes_per_subscribe = sum(SUBSCRIBE.values()) * item_write_units
    # At most one per board or queue connection (a screen open for a while sees a change).
    first_changes = view_connections * sum(FIRST_CHANGE.values()) * item_write_units
    deletes = SUBSCRIPTIONS_PER_CONNECTION + 1  # its subscriptions and its own item
    return LambdaPush(
        connections=connections,
        connection_minutes=minutes,
        messages_in=units_in,
        messages_out=units_out,
        pings=pings,
        invocations=invocations,
        gb_seconds=gb_seconds,
        table_writes=connections * (writes_per_subscribe + deletes) + first_changes,
        table_reads=connections * DISCONNECT["GetItem"] + lookups,  # a small item: one unit each
        order_reads=order_reads,
        resync_by_route=resync,
        stream_polls=feed.polls_per_month(profile),
        stream_busy_peak=stream_utilisation(profile),
        basis={
            "streams": "the census's streams per page (counted from the pages) × API Gateway's 2 h "
            "connection limit",
            "pings": f"one every {live.websocket_ping_s:g} s while connected (read from the pages' source), "
            "each answered with a pong",
            "messages": "the feed's changes × the subscribers of each channel, as the census counted "
            f"them per page kind; each in 32 KB units ({sized})",
            "handlers": f"{cfg.ws_handler_ms:g} ms billed per WebSocket handler and stream batch "
            f"({profile.inputs.label('lambda.ws_handler_ms')}), {cfg.post_ms:g} ms per post_to_connection "
            f"({profile.inputs.label('lambda.post_ms')}) on {POST_WORKERS} threads",
            "stream batches": feed.SOURCE,
            "table calls": "the handlers' calls, counted from the code (tests/cost); items of ≈ "
            f"{TABLE_ITEM_BYTES} B",
        },
    )
