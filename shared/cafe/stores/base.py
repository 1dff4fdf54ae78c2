"""The one storage interface every adapter implements (memory, SQLite, DynamoDB).

Each method is atomic on its own: the service never needs a transaction spanning calls,
which is what lets the same service run on SQLite and on DynamoDB.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

from cafe.domain.orders import Order, Status
from cafe.domain.settings import StoreSettings
from cafe.errors import Conflict, Unavailable

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer


class ConcurrentUpdate(Conflict):
    code = "concurrent_update"


class QueueFull(Unavailable):
    code = "queue_full"


class OrderStore(ABC):
    """Where orders, store settings, menu availability and idempotency records live."""

    #: True when every call is local and takes microseconds (SQLite, memory), so an event loop
    #: may call the store directly: a hop to a worker thread costs more than the call. A SQLite
    #: write can still wait for another process's write lock, but only as long as that
    #: writer's sub-millisecond transaction. Network stores (DynamoDB) leave it False.
    fast_local_calls: ClassVar[bool] = False

    @abstractmethod
    def add(self, draft: Order, *, max_waiting: int) -> Order:
        """Store a new order and return it with its pickup number.

        Atomically: gives ``draft`` the next number of its ``business_day`` (never shared by
        two orders), and refuses with ``QueueFull`` when ``max_waiting`` orders already wait.
        A refused order leaves nothing behind.
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

    @abstractmethod
    def list_by_status(self, status: Status, limit: int = 100) -> list[Order]:
        """Orders in ``status``, oldest first."""

    @abstractmethod
    def count_waiting(self) -> int:
        """How many orders are PLACED or PREPARING."""

    @abstractmethod
    def get_settings(self) -> StoreSettings:
        """The store settings (defaults until someone saves them)."""

    @abstractmethod
    def put_settings(self, settings: StoreSettings) -> None:
        """Save the store settings."""

    @abstractmethod
    def unavailable_items(self) -> frozenset[str]:
        """Ids of menu items marked sold out."""

    @abstractmethod
    def set_item_available(self, item_id: str, available: bool) -> None:
        """Mark a menu item sold out (False) or back on sale (True)."""

    @abstractmethod
    def idempotency_layer(self) -> BasePersistenceLayer:
        """The powertools idempotency persistence layer that keeps its records in this store."""

    def connect(self) -> None:  # noqa: B027 - optional hook, the in-memory store has nothing to open
        """Open connections or build clients now instead of on first use.

        Lambda calls it during the init phase, which runs before the first request is timed.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, most stores hold nothing to release
        """Release connections; the default has nothing to release."""
