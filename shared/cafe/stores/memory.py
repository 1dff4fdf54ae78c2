"""A store in process memory: the reference implementation for tests (one process only)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import replace

from cafe.domain.orders import Order, OrderNotFound, Status
from cafe.domain.settings import StoreSettings
from cafe.stores.base import (
    FEED_KEEP,
    Admit,
    ConcurrentUpdate,
    FeedEvent,
    OrderStore,
    QueueFull,
    Remember,
    Remembered,
    menu_view,
    store_view,
)


class MemoryStore(OrderStore):
    fast_local_calls = True
    has_feed = True

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._orders: dict[str, Order] = {}
        self._last_number: dict[str, int] = {}
        self._settings = StoreSettings()
        self._unavailable: set[str] = set()
        self._remembered: dict[str, tuple[Remembered, int]] = {}  # key -> (placement, until)
        self._feed: deque[FeedEvent] = deque(maxlen=FEED_KEEP)  # the in-process change feed
        self._sequence = 0

    def _emit(self, kind: str, body: str) -> None:
        """Append a change to the feed; the caller holds the lock (same step as the change)."""
        self._sequence += 1
        self._feed.append(FeedEvent(self._sequence, kind, body))

    def feed_after(self, sequence: int, limit: int = 100) -> list[FeedEvent]:
        with self._lock:
            if not self._feed or sequence >= self._sequence:
                return []
            start = max(0, sequence - self._feed[0].sequence + 1)
            return [self._feed[index] for index in range(start, min(len(self._feed), start + limit))]

    def latest_sequence(self) -> int:
        with self._lock:
            return self._sequence

    def place(self, draft: Order, *, admit: Admit, remember: Remember | None = None) -> Order | Remembered:
        with self._lock:
            if remember is not None:
                found = self._remembered.get(remember.key)
                if found is not None and found[1] >= remember.now:
                    return found[0]
            admit(self._settings, frozenset(self._unavailable))
            order = self.add(draft, max_waiting=self._settings.max_waiting)
            if remember is not None:
                self._remembered[remember.key] = (Remembered(order, remember.fingerprint), remember.until)
            return order

    def add(self, draft: Order, *, max_waiting: int) -> Order:
        with self._lock:
            if self.count_waiting() >= max_waiting:
                raise QueueFull(f"{max_waiting} orders are already waiting", {"max_waiting": max_waiting})
            number = self._last_number.get(draft.business_day, 0) + 1
            self._last_number[draft.business_day] = number
            order = replace(draft, number=number)
            self._orders[order.id] = order
            self._emit("order", order.as_json)
            return order

    def get(self, order_id: str) -> Order:
        with self._lock:
            try:
                return self._orders[order_id]
            except KeyError:
                raise OrderNotFound(f"no order {order_id!r}", {"order_id": order_id}) from None

    def replace(self, order: Order) -> None:
        with self._lock:
            current = self.get(order.id)
            if current.version != order.version - 1:
                raise ConcurrentUpdate(
                    f"order {order.id} changed meanwhile",
                    {"order_id": order.id, "status": current.status.value},
                )
            self._orders[order.id] = order
            self._emit("order", order.as_json)

    def list_by_status(self, status: Status, limit: int = 100) -> list[Order]:
        with self._lock:
            matching = [order for order in self._orders.values() if order.status is status]
        return sorted(matching, key=lambda order: (order.created_at, order.number))[:limit]

    def count_waiting(self) -> int:
        with self._lock:
            return sum(1 for order in self._orders.values() if order.status.waiting)

    def get_settings(self) -> StoreSettings:
        with self._lock:
            return self._settings

    def put_settings(self, settings: StoreSettings) -> None:
        with self._lock:
            self._settings = settings
            self._emit("store", store_view(settings))

    def unavailable_items(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._unavailable)

    def set_item_available(self, item_id: str, available: bool) -> None:
        with self._lock:
            if available:
                self._unavailable.discard(item_id)
            else:
                self._unavailable.add(item_id)
            self._emit("menu", menu_view(item_id, available))
