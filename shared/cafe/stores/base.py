"""The one storage interface every adapter implements (memory, SQLite, DynamoDB).

Each method is atomic on its own: the service never needs a transaction spanning calls,
which is what lets the same service run on SQLite and on DynamoDB.
"""

from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from cafe.domain.orders import Order, Status, Transition
from cafe.domain.settings import StoreSettings
from cafe.errors import Conflict, Unavailable

# How often ``move`` re-applies a change after another writer changed the order first.
MOVE_ATTEMPTS = 4


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"


class QueueFull(Unavailable):
    code = "queue_full"


class StoreUnavailable(Unavailable):
    """The store did not answer (throttled, failing, unreachable, locked): try again shortly.

    Raised instead of the driver's own error, so the API answers 503 with ``Retry-After``
    rather than 500. Whether the request's change was stored is unknown: a retry with the same
    Idempotency-Key or If-Match answers as the first attempt would have.
    """

    code = "unavailable"

    def __init__(self, cause: BaseException) -> None:
        super().__init__("the order book is not answering; try again shortly")
        self.cause = cause


Method = TypeVar("Method", bound=Callable[..., Any])


def faults_as_unavailable(is_fault: Callable[[BaseException], bool]) -> Callable[[Method], Method]:
    """Decorate a store method so that errors ``is_fault`` accepts become ``StoreUnavailable``."""

    def decorate(method: Method) -> Method:
        @functools.wraps(method)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except Exception as error:
                if isinstance(error, StoreUnavailable) or not is_fault(error):
                    raise
                raise StoreUnavailable(error) from error

        return guarded  # type: ignore[return-value]

    return decorate


@dataclass(frozen=True)
class Remember:
    """Remember a placement under an idempotency key until ``until`` (epoch seconds).

    ``fingerprint`` identifies the request body: the same key with another body is refused by
    the service. A record whose ``until`` is before ``now`` is as good as absent.
    """

    key: str
    fingerprint: str
    now: int
    until: int


@dataclass(frozen=True)
class Remembered:
    """A placement already made with the key: the order as it was placed, and its fingerprint."""

    order: Order
    fingerprint: str


@dataclass(frozen=True)
class FeedEvent:
    """One accepted change, as the order book's change feed carries it.

    ``kind`` says what changed and ``body`` is the public view of it, as JSON text:

    - ``order``: the order exactly as ``GET /orders/{id}`` answers it (placement, each
      transition, cancellation);
    - ``store``: the store settings, ``{"open", "max_waiting"}`` (``PUT /store``);
    - ``menu``: one item's availability, ``{"id", "available"}`` (``PATCH /menu/{id}``).

    ``sequence`` grows by one per change, in the order the changes were committed.
    """

    sequence: int
    kind: str
    body: str


#: How many events a feed keeps (older ones are pruned): a reader further behind resyncs.
FEED_KEEP = 10_000


def store_view(settings: StoreSettings) -> str:
    """A ``store`` event's body."""
    return json.dumps(settings.to_dict(), separators=(",", ":"))


def menu_view(item_id: str, available: bool) -> str:
    """A ``menu`` event's body: what ``PATCH /menu/{item_id}`` answers."""
    return json.dumps({"id": item_id, "available": available}, separators=(",", ":"))


class FeedNotKept(Conflict):
    """This store keeps no change feed a process can read (DynamoDB: the table's stream is the feed)."""

    code = "feed_not_kept"


#: The service's admission rules (store open, items not sold out), given the settings and the
#: sold-out items as the store read them for this placement; raises to refuse the order.
Admit = Callable[[StoreSettings, frozenset[str]], None]


class OrderStore(ABC):
    """Where orders, store settings, menu availability and idempotency records live."""

    #: True when every call is local and takes microseconds (SQLite, memory), so an event loop
    #: may call the store directly: a hop to a worker thread costs more than the call. A SQLite
    #: write can still wait for another process's write lock, but only as long as that
    #: writer's sub-millisecond transaction. Network stores (DynamoDB) leave it False.
    fast_local_calls: ClassVar[bool] = False
    #: True when ``feed_after`` / ``latest_sequence`` work: the store keeps its own change feed.
    has_feed: ClassVar[bool] = False

    @abstractmethod
    def add(self, draft: Order, *, max_waiting: int) -> Order:
        """Store a new order and return it with its pickup number.

        Atomically: gives ``draft`` the next number of its ``business_day`` (never shared by
        two orders), and refuses with ``QueueFull`` when ``max_waiting`` orders already wait.
        A refused order leaves nothing behind.
        """

    @abstractmethod
    def place(self, draft: Order, *, admit: Admit, remember: Remember | None = None) -> Order | Remembered:
        """Store a new order as ``add`` does, after ``admit`` accepted the current settings.

        With ``remember``, atomically with the order: if an unexpired placement is remembered
        under the key, return it (``Remembered``) and store nothing; else remember this one.
        However many placements with one key run at once, one order is stored and every other
        call returns it. A placement that ``admit`` or the queue refuses stores nothing and
        leaves the key free.
        """

    @abstractmethod
    def get(self, order_id: str) -> Order:
        """The order, or ``OrderNotFound``."""

    @abstractmethod
    def replace(self, order: Order) -> None:
        """Write ``order`` if the stored copy still has ``order.version - 1``.

        Raises ``ConcurrentUpdate`` when another writer got there first, ``OrderNotFound``
        when there is no such order.
        """

    def move(self, order_id: str, change: Transition) -> Order:
        """Store ``change(current order)`` and return it, with optimistic concurrency.

        When another writer changed the order between reading and writing, ``change`` is
        applied again to the order as it now is, so the status machine decides between
        concurrent requests: of identical transitions exactly one is written, the others
        see its result and are refused by ``change``. A change the order already went through
        (this same request, retried) answers with the order as it is, never a refusal.
        Exceptions of ``change`` store nothing.
        """
        for _ in range(MOVE_ATTEMPTS):
            current = self.get(order_id)
            if change.reached(current):
                return current
            changed = change(current)
            try:
                self.replace(changed)
            except ConcurrentUpdate:
                continue
            return changed
        raise ConcurrentUpdate(f"order {order_id} keeps changing; try again", {"id": order_id})

    @abstractmethod
    def list_by_status(self, status: Status, limit: int = 100) -> list[Order]:
        """Orders in ``status``, oldest first."""

    def list_by_statuses(self, statuses: Iterable[Status], limit: int = 100) -> dict[Status, list[Order]]:
        """``list_by_status`` for several statuses at once (stores may read them together)."""
        return {status: self.list_by_status(status, limit) for status in dict.fromkeys(statuses)}

    @abstractmethod
    def count_waiting(self) -> int:
        """How many orders are PLACED or PREPARING."""

    @abstractmethod
    def get_settings(self) -> StoreSettings:
        """The store settings (defaults until someone saves them)."""

    @abstractmethod
    def put_settings(self, settings: StoreSettings) -> None:
        """Save the store settings."""

    def settings_and_waiting(self) -> tuple[StoreSettings, int]:
        """``get_settings()`` and ``count_waiting()`` (stores may read them together)."""
        return self.get_settings(), self.count_waiting()

    @abstractmethod
    def unavailable_items(self) -> frozenset[str]:
        """Ids of menu items marked sold out."""

    @abstractmethod
    def set_item_available(self, item_id: str, available: bool) -> None:
        """Mark a menu item sold out (False) or back on sale (True)."""

    def feed_after(self, sequence: int, limit: int = 100) -> list[FeedEvent]:
        """Up to ``limit`` feed events with a sequence above ``sequence``, oldest first.

        Events older than the last ``FEED_KEEP`` may be pruned: when the first event returned
        is not ``sequence + 1``, the reader missed some and must resync from current state.
        """
        raise FeedNotKept(f"{type(self).__name__} keeps no change feed")

    def latest_sequence(self) -> int:
        """The sequence of the newest feed event (0 before any change)."""
        raise FeedNotKept(f"{type(self).__name__} keeps no change feed")

    def connect(self) -> None:  # noqa: B027 - optional hook, the in-memory store has nothing to open
        """Open connections or build clients now instead of on first use.

        Lambda calls it during the init phase, which runs before the first request is timed.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing to release
        """Release connections; the default has nothing to release."""
