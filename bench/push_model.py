"""What bench/push.py's changes did, and which change each received message delivers.

The benchmark is the only writer on its order book while a round runs, so it can follow the
book exactly: ``Book`` starts from what the GET endpoints answer, applies each change as the
HTTP answer reports it, and records after every change the fingerprint of the board and of the
barista's queue. A message is then matched to the change it reflects:

- an order message by its order's id and version (each change bumps the version);
- a board message by its sets of pickup numbers (preparing, ready), a queue message by its set
  of (order id, version): the latest change after which the book looked like that.

A board or queue message reflects every change to that channel since the subscriber's previous
one (the hub sends one message per feed batch, and two changes read in one batch reach the page
together), so each of those changes counts as delivered to that subscriber at the message's
arrival. The delay of a delivery is measured from the server's own time stamp of the change
(the order's ``updated_at``: the transition's time, taken just before the transaction that
commits it and its feed event) to the subscriber's arrival time stamp; the client's arrival of
the HTTP answer is kept too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

QUEUE_STATUSES = ("PLACED", "PREPARING", "READY")

BoardPrint = tuple[tuple[int, ...], tuple[int, ...]]
QueuePrint = frozenset[tuple[str, int]]


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q``-th percentile (0–100), linear between the closest ranks; NaN when empty."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def stamp(order: dict[str, Any]) -> float:
    """The server's time of the order's latest change, as epoch seconds."""
    return datetime.fromisoformat(str(order["updated_at"])).timestamp()


@dataclass(frozen=True)
class Change:
    index: int
    what: str  # "place" or the target status
    order_id: str
    version: int
    stamp: float  # the server's transition time (epoch s)
    answered: float  # when the HTTP answer arrived here (epoch s)
    board: BoardPrint
    queue: QueuePrint
    board_changed: bool
    queue_changed: bool


@dataclass
class Book:
    """The order book's live part as the benchmark changed it: id → (number, status, version)."""

    orders: dict[str, tuple[int, str, int]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)

    @classmethod
    def from_queue(cls, queue: dict[str, Any]) -> Book:
        """From ``GET /orders?status=PLACED,PREPARING,READY&limit=500`` (the queue's own read)."""
        book = cls()
        for order in queue["orders"]:
            book.orders[order["id"]] = (int(order["number"]), order["status"], int(order["version"]))
        return book

    def board(self) -> BoardPrint:
        preparing = sorted(n for n, status, _ in self.orders.values() if status == "PREPARING")
        ready = sorted(n for n, status, _ in self.orders.values() if status == "READY")
        return tuple(preparing), tuple(ready)

    def queue(self) -> QueuePrint:
        return frozenset((i, v) for i, (_, status, v) in self.orders.items() if status in QUEUE_STATUSES)

    def apply(self, what: str, order: dict[str, Any], answered: float) -> Change:
        board, queue = self.board(), self.queue()
        self.orders[order["id"]] = (int(order["number"]), order["status"], int(order["version"]))
        if order["status"] not in QUEUE_STATUSES:
            del self.orders[order["id"]]
        change = Change(
            len(self.changes),
            what,
            order["id"],
            int(order["version"]),
            stamp(order),
            answered,
            self.board(),
            self.queue(),
            self.board() != board,
            self.queue() != queue,
        )
        self.changes.append(change)
        return change


def board_print(message: dict[str, Any]) -> BoardPrint:
    board = message["board"]
    return tuple(sorted(board["preparing"])), tuple(sorted(board["ready"]))


def queue_print(message: dict[str, Any]) -> QueuePrint:
    return frozenset((o["id"], int(o["version"])) for o in message["queue"]["orders"])


@dataclass
class Deliveries:
    """Every delivery of one round: delays (s) by channel, and what went wrong."""

    delays: dict[str, list[float]] = field(default_factory=lambda: {"order": [], "board": [], "queue": []})
    after_answer: list[float] = field(default_factory=list)  # delay from the HTTP answer instead
    expected: int = 0
    missing: int = 0
    duplicates: int = 0  # the same change twice to one subscriber
    out_of_order: int = 0
    unmatched: int = 0  # a message that matches no state the book went through
    examples: list[str] = field(default_factory=list)  # the first few unmatched messages

    def unmatched_message(self, data: bytes) -> None:
        self.unmatched += 1
        if len(self.examples) < 3:
            self.examples.append(data[:300].decode(errors="replace"))

    @property
    def all_delays(self) -> list[float]:
        return [d for values in self.delays.values() for d in values]

    @property
    def delivered(self) -> int:
        return len(self.all_delays)


def attribute(
    changes: list[Change],
    subscribers: dict[int, tuple[str, str]],
    records: list[tuple[int, float, bytes]],
    since: dict[int, int] | None = None,
) -> Deliveries:
    """Match ``records`` (subscriber index, arrival, raw message) to ``changes``.

    ``subscribers``: index → (channel, order id) of everyone subscribed at the round's end;
    ``since``: index → the last change made before that subscriber's current state was read
    (its later changes are the ones it must receive; -1, the default, for all of them).
    """
    since = since or {}
    result = Deliveries()
    by_version = {(c.order_id, c.version): c for c in changes}
    received: dict[int, list[tuple[float, bytes]]] = {}
    for index, arrived, data in records:
        received.setdefault(index, []).append((arrived, data))
    parsed: dict[bytes, dict[str, Any]] = {}

    def parse(data: bytes) -> dict[str, Any]:
        if data not in parsed:
            parsed[data] = json.loads(data)
        return parsed[data]

    for index, (channel, order_id) in subscribers.items():
        messages = sorted(received.get(index, []), key=lambda m: m[0])
        first = since.get(index, -1)
        if channel == "order":
            wanted = [c for c in changes if c.order_id == order_id and c.index > first]
            seen: set[int] = set()
            last_version = 0
            for arrived, data in messages:
                order = parse(data)["order"]
                change = by_version.get((order["id"], int(order["version"])))
                if change is None or order["id"] != order_id:
                    result.unmatched_message(data)
                    continue
                if change.version in seen:
                    result.duplicates += 1
                    continue
                if change.version < last_version:
                    result.out_of_order += 1
                seen.add(change.version)
                last_version = max(last_version, change.version)
                result.delays["order"].append(arrived - change.stamp)
                result.after_answer.append(arrived - change.answered)
            result.expected += len(wanted)
            result.missing += len(wanted) - len(seen)
            continue
        changed = [
            c
            for c in changes
            if c.index > first and (c.board_changed if channel == "board" else c.queue_changed)
        ]
        result.expected += len(changed)
        last = first
        covered = 0
        for arrived, data in messages:
            message = parse(data)
            fingerprint = board_print(message) if channel == "board" else queue_print(message)
            match = None
            for change in reversed(changes):
                if change.index <= last:
                    break
                if change.stamp > arrived:
                    continue  # made after the message arrived: it cannot be what it shows
                if (change.board if channel == "board" else change.queue) == fingerprint:
                    match = change
                    break
            if match is None:
                result.unmatched_message(data)
                continue
            for change in changed:
                if last < change.index <= match.index:
                    result.delays[channel].append(arrived - change.stamp)
                    result.after_answer.append(arrived - change.answered)
                    covered += 1
            last = match.index
        result.missing += len(changed) - covered
    return result
