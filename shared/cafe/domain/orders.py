"""Orders and the status machine they move through.

``PLACED → PREPARING → READY → COMPLETED``; ``PLACED`` or ``PREPARING → CANCELLED``.
A customer may cancel only while ``PLACED``. Every change bumps ``version``, which the
stores use for optimistic concurrency: of two concurrent changes exactly one is written.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from cafe.domain.menu import LocalizedName
from cafe.errors import Conflict, NotFound


class Status(StrEnum):
    PLACED = "PLACED"
    PREPARING = "PREPARING"
    READY = "READY"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"

    @property
    def waiting(self) -> bool:
        """Counts against the store's ``max_waiting`` cap."""
        return self in (Status.PLACED, Status.PREPARING)


ALLOWED: dict[Status, frozenset[Status]] = {
    Status.PLACED: frozenset({Status.PREPARING, Status.CANCELLED}),
    Status.PREPARING: frozenset({Status.READY, Status.CANCELLED}),
    Status.READY: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset(),
    Status.CANCELLED: frozenset(),
}
CUSTOMER_CANCELLABLE: frozenset[Status] = frozenset({Status.PLACED})


class OrderNotFound(NotFound):
    code = "order_not_found"


class TransitionRefused(Conflict):
    code = "transition_refused"


class StaleVersion(Conflict):
    """The request named the version it expected (If-Match) and the order has moved on."""

    code = "stale_version"


def new_order_id() -> str:
    """128 random bits, URL-safe: the id is the customer's only credential for their order."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class OrderLine:
    item_id: str
    name: LocalizedName
    quantity: int
    options: dict[str, str]
    unit_price: int

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "name": self.name.to_dict(),
            "quantity": self.quantity,
            "options": dict(self.options),
            "unit_price": self.unit_price,
            "line_total": self.line_total,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> OrderLine:
        return cls(
            item_id=raw["item_id"],
            name=LocalizedName(**raw["name"]),
            quantity=int(raw["quantity"]),
            options=dict(raw["options"]),
            unit_price=int(raw["unit_price"]),
        )


@dataclass(frozen=True)
class StatusChange:
    status: Status
    at: datetime

    def to_dict(self) -> dict[str, str]:
        return {"status": self.status.value, "at": self.at.isoformat(timespec="microseconds")}


@dataclass(frozen=True)
class Transition:
    """A requested status change, applied to whatever version of the order is current.

    Calling it moves an order (``Order.move_to``); ``sources`` names the statuses it is allowed
    from, so a store can write it without reading the order first, conditioned on its status.

    ``at`` is taken once per request, to the microsecond, so it also names the request: a store
    that retries a write whose answer was lost finds ``StatusChange(target, at)`` already in the
    order (``reached``) and answers with it instead of refusing the change it made itself. With
    ``expected_version`` (the client's If-Match) the change applies only to that version, and a
    client's own retry finds it reached when that version moved to ``target``.
    """

    target: Status
    at: datetime
    by_customer: bool = False
    expected_version: int | None = None

    def __call__(self, order: Order) -> Order:
        if self.expected_version is not None and order.version != self.expected_version:
            raise StaleVersion(
                f"order {order.number} is at version {order.version}, not {self.expected_version}",
                {"version": order.version, "expected": self.expected_version, "status": order.status.value},
            )
        return order.move_to(self.target, self.at, by_customer=self.by_customer)

    @property
    def sources(self) -> frozenset[Status]:
        if self.by_customer:
            return CUSTOMER_CANCELLABLE if self.target is Status.CANCELLED else frozenset()
        return frozenset(source for source, targets in ALLOWED.items() if self.target in targets)

    def allows(self, order: Order) -> bool:
        """Would calling this on ``order`` succeed (without raising)?"""
        version_ok = self.expected_version is None or order.version == self.expected_version
        return version_ok and order.status in self.sources

    def reached(self, order: Order) -> bool:
        """Has ``order`` already gone through this change (its own write, or its If-Match version
        moved to ``target``)? Then the answer is the order as it is, not a refusal."""
        if StatusChange(self.target, self.at) in order.history:
            return True
        if self.expected_version is None or order.version <= self.expected_version:
            return False
        # The change that took the order from the expected version to the next one.
        index = len(order.history) - order.version + self.expected_version
        return 0 < index < len(order.history) and order.history[index].status is self.target


@dataclass(frozen=True)
class Order:
    id: str
    customer: str
    lines: tuple[OrderLine, ...]
    currency: str
    business_day: str
    history: tuple[StatusChange, ...]
    number: int = 0
    version: int = 1
    total: int = field(init=False)

    def __post_init__(self) -> None:
        # Derived, never taken from a client: the total is what the lines cost.
        object.__setattr__(self, "total", sum(line.line_total for line in self.lines))

    @property
    def status(self) -> Status:
        return self.history[-1].status

    @property
    def created_at(self) -> datetime:
        return self.history[0].at

    @property
    def updated_at(self) -> datetime:
        return self.history[-1].at

    def move_to(self, target: Status, at: datetime, *, by_customer: bool = False) -> Order:
        if by_customer:
            allowed = frozenset({Status.CANCELLED}) if self.status in CUSTOMER_CANCELLABLE else frozenset()
        else:
            allowed = ALLOWED[self.status]
        if target not in allowed:
            raise TransitionRefused(
                f"order {self.number} is {self.status.value}; it cannot become {target.value}",
                {"status": self.status.value, "requested": target.value},
            )
        return replace(self, history=(*self.history, StatusChange(target, at)), version=self.version + 1)

    @cached_property
    def as_json(self) -> str:
        """``to_dict`` as compact JSON, encoded once per order (it is immutable): the store
        keeps this text and the API answers with it, so placing an order encodes it once."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "status": self.status.value,
            "customer": self.customer,
            "items": [line.to_dict() for line in self.lines],
            "total": self.total,
            "currency": self.currency,
            "business_day": self.business_day,
            "created_at": self.created_at.isoformat(timespec="microseconds"),
            "updated_at": self.updated_at.isoformat(timespec="microseconds"),
            "history": [change.to_dict() for change in self.history],
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Order:
        return cls(
            id=raw["id"],
            number=int(raw["number"]),
            customer=raw["customer"],
            lines=tuple(OrderLine.from_dict(line) for line in raw["items"]),
            currency=raw["currency"],
            business_day=raw["business_day"],
            history=tuple(
                StatusChange(Status(change["status"]), datetime.fromisoformat(change["at"]))
                for change in raw["history"]
            ),
            version=int(raw["version"]),
        )
