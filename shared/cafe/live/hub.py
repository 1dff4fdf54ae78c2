"""The live hub: one feed reader per process, fanning changes out to its subscribers.

However many subscribers a process holds, one task reads the order book's change feed
(``OrderStore.feed_after``) by sequence, every ``poll_seconds`` and only while someone is
subscribed, so a change made by any process on the same order book (any runtime, on one SQLite
file) reaches every subscriber. Each subscriber has a bounded queue of encoded messages: one
that does not keep up (a client that never reads) is dropped when its queue is full and its
stream ends, so it cannot grow the process's memory or hold up anyone else.

Messages are ``cafe.live.messages``' (the public shapes the GET endpoints answer):

- ``order``: the feed's own copy of the order, which is ``GET /orders/{id}``'s body;
- ``board``: ``GET /pickup``, read once per batch of order changes while someone watches it;
- ``queue``: ``GET /orders?status=PLACED,PREPARING,READY&limit=500`` and ``GET /store``, read
  once per batch of order or store changes while a barista watches it.

A new subscriber first gets the current state. Each subscriber then gets each change once, in
order: an order's messages are filtered by version (never one older than or equal to the last
sent), a board's or queue's by content (never the one just sent), which also absorbs the overlap
between the current state read at subscription and the feed events around it.
"""

from __future__ import annotations

import asyncio
import json
import os
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cafe.api.application import CafeApi
from cafe.errors import Unavailable
from cafe.live import messages
from cafe.stores.base import FeedEvent

#: How often the feed reader asks the store for new events while someone is subscribed.
POLL_SECONDS = float(os.environ.get("CAFE_LIVE_POLL_SECONDS", "0.15"))
#: A comment line at least this often on an idle stream: well inside the ALB's 60 s idle timeout
#: (infra/templates/alb.py sets it), and it tells a client the stream is alive.
HEARTBEAT_SECONDS = float(os.environ.get("CAFE_LIVE_HEARTBEAT_SECONDS", "15"))
#: Messages queued per subscriber: a subscriber this far behind is dropped.
QUEUE_LIMIT = 64
#: Subscribers one process holds; past it a subscription gets 503 with Retry-After.
MAX_SUBSCRIBERS = int(os.environ.get("CAFE_LIVE_MAX_SUBSCRIBERS", "10000"))
#: Feed events read per store call.
BATCH = 500
#: After a failed feed read, wait this long before the next (the store is struggling).
FAILURE_BACKOFF_SECONDS = 1.0

T = TypeVar("T")


class TooManySubscribers(Unavailable):
    code = "too_many_subscribers"


@dataclass(eq=False)
class Subscriber:
    """One open stream: its channel, its bounded queue, and what it was last sent."""

    channel: str
    order_id: str
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    last: int | str | None = None  # the order's version, or the board's / queue's text
    dropped: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return self.channel, self.order_id

    def offer(self, message: str, marker: int | str) -> bool:
        """Queue ``message`` unless it is no news to this subscriber; False when dropped for
        being too far behind (its queue is full)."""
        if self.dropped:
            return False
        if self.last is not None:
            if isinstance(marker, int) and isinstance(self.last, int):
                if marker <= self.last:
                    return True
            elif marker == self.last:
                return True
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.close()
            return False
        self.last = marker
        return True

    def close(self) -> None:
        """End the stream: drop what is queued and wake the reader of the queue."""
        self.dropped = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def next(self, timeout: float) -> str | None:
        """The next message; ``""`` when ``timeout`` passed with none (send a heartbeat); None at
        the end of the stream."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return ""


class LiveHub:
    """The subscribers of one process and the one task that reads the feed for them."""

    def __init__(self, api: CafeApi, *, poll_seconds: float | None = None) -> None:
        self.api = api
        self.poll_seconds = POLL_SECONDS if poll_seconds is None else poll_seconds
        self.max_subscribers = MAX_SUBSCRIBERS
        self._channels: dict[tuple[str, str], set[Subscriber]] = {}
        self._count = 0
        self._cursor = 0
        self._reader: asyncio.Task[None] | None = None
        self._board: str | None = None
        self._queue: str | None = None
        self.dropped = 0  # subscribers dropped for not keeping up (for tests and logs)

    @property
    def subscribers(self) -> int:
        return self._count

    @property
    def cursor(self) -> int:
        """The sequence of the last feed event this process has read and delivered."""
        return self._cursor

    def written(self) -> bool:
        """Whether every subscriber's queue is empty: nothing delivered is waiting to be written."""
        return all(s.queue.empty() for members in self._channels.values() for s in members)

    @property
    def reading(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def _call(self, function: Callable[..., T], *args: Any) -> T:
        """A store read: inline on a store of fast local calls, else off the event loop."""
        if self.api.service.store.fast_local_calls:
            return function(*args)
        return await asyncio.to_thread(function, *args)

    # -- subscribing -------------------------------------------------------------------
    async def subscribe(self, channel: str, order_id: str = "") -> Subscriber:
        """A subscriber whose queue already holds the current state (raises store errors)."""
        if self._count >= self.max_subscribers:
            raise TooManySubscribers("this server holds all the live subscribers it can; poll meanwhile")
        if not self.reading:
            self._cursor = await self._call(self.api.service.store.latest_sequence)
            self._board = self._queue = None
            self._reader = asyncio.get_running_loop().create_task(self._read_feed())
        subscriber = Subscriber(channel, order_id)
        self._channels.setdefault(subscriber.key, set()).add(subscriber)
        self._count += 1
        try:
            message, marker = await self._current(channel, order_id)
        except BaseException:
            self.unsubscribe(subscriber)
            raise
        subscriber.offer(message, marker)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        members = self._channels.get(subscriber.key)
        if members is None or subscriber not in members:
            return
        members.discard(subscriber)
        self._count -= 1
        if not members:
            del self._channels[subscriber.key]

    async def _current(self, channel: str, order_id: str) -> tuple[str, int | str]:
        return await self._call(messages.current, self.api.service, channel, order_id)

    async def _read_board(self) -> str:
        return await self._call(messages.board_message, self.api.service)

    async def _read_queue(self) -> str:
        return await self._call(messages.queue_message, self.api.service)

    # -- the feed reader ----------------------------------------------------------------
    async def _read_feed(self) -> None:
        """Read the feed while anyone is subscribed; deliver each batch; never die of a fault."""
        store = self.api.service.store
        while self._count:
            try:
                events = await self._call(store.feed_after, self._cursor, BATCH)
                if events:
                    gap = events[0].sequence != self._cursor + 1
                    self._cursor = events[-1].sequence
                    await self._deliver(events, resync=gap)
                    if len(events) == BATCH:
                        continue  # more are waiting: read on at once
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a store fault: keep the streams, try again shortly
                self.api.telemetry.log("warning", "live feed read failed", cause=repr(error))
                await asyncio.sleep(FAILURE_BACKOFF_SECONDS)
                continue
            await asyncio.sleep(self.poll_seconds)

    async def _deliver(self, events: list[FeedEvent], *, resync: bool) -> None:
        orders_changed = store_changed = False
        order_watched = any(key[0] == "order" for key in self._channels)
        for event in events:
            if event.kind == "order":
                orders_changed = True
                if order_watched:
                    document = json.loads(event.body)
                    self._fan_out(
                        ("order", document["id"]),
                        messages.order_message(event.body),
                        int(document["version"]),
                    )
            elif event.kind == "store":
                store_changed = True
        if resync:  # events were pruned before we read them: send every order as it is now
            await self._resync_orders()
            orders_changed = store_changed = True
        if orders_changed and ("board", "") in self._channels:
            board = await self._read_board()
            if board != self._board:
                self._board = board
                self._fan_out(("board", ""), board, board)
        if (orders_changed or store_changed) and ("queue", "") in self._channels:
            queue = await self._read_queue()
            if queue != self._queue:
                self._queue = queue
                self._fan_out(("queue", ""), queue, queue)

    async def _resync_orders(self) -> None:
        for channel, order_id in [key for key in self._channels if key[0] == "order"]:
            try:
                order = await self._call(self.api.service.get_order, order_id)
            except Exception:  # noqa: S112 - gone or unreadable: the next change will tell
                continue
            self._fan_out((channel, order_id), messages.order_message(order.as_json), order.version)

    def _fan_out(self, key: tuple[str, str], message: str, marker: int | str) -> None:
        for subscriber in list(self._channels.get(key, ())):
            if not subscriber.offer(message, marker):
                self.unsubscribe(subscriber)
                self.dropped += 1
                self.api.telemetry.log("info", "live subscriber dropped: not reading", channel=key[0])


_hubs: weakref.WeakKeyDictionary[CafeApi, LiveHub] = weakref.WeakKeyDictionary()


def hub_for(api: CafeApi) -> LiveHub:
    """The process's hub for ``api`` (one per API object: tests swap in their own API)."""
    hub = _hubs.get(api)
    if hub is None:
        hub = _hubs[api] = LiveHub(api)
    return hub
