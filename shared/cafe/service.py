"""The service layer: every use case of the café, on top of a store and the menu.

Adapters (the three runtimes) call only this; it raises ``CafeError`` subclasses and knows
nothing of HTTP or AWS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from cafe.domain.menu import ItemSoldOut, Menu, menu_document
from cafe.domain.orders import Order, OrderLine, Status, StatusChange, Transition, new_order_id
from cafe.domain.settings import MAX_WAITING_LIMIT, StoreSettings
from cafe.errors import InvalidInput, Unavailable
from cafe.stores.base import OrderStore, Remember, Remembered

CUSTOMER_MAX_LENGTH = 40
MAX_LINES = 20
MAX_QUANTITY = 20
IDEMPOTENCY_KEY_MAX_LENGTH = 128
# Placements are remembered this long: a retry within a day returns the same order.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
# The pickup board shows at most this many numbers per column (more would not fit a screen).
PICKUP_BOARD_LIMIT = 200
# The statuses the pickup board shows, in its two columns.
PICKUP_STATUSES = (Status.PREPARING, Status.READY)


class StoreClosed(Unavailable):
    code = "store_closed"


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"


@dataclass(frozen=True)
class LineRequest:
    item_id: str
    quantity: int
    options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OrderRequest:
    """What a customer asks for. Prices are never part of it: the server computes them."""

    customer: str
    lines: tuple[LineRequest, ...]

    def validate(self) -> None:
        name = self.customer.strip()
        if not 1 <= len(name) <= CUSTOMER_MAX_LENGTH:
            raise InvalidInput(f"customer must be 1–{CUSTOMER_MAX_LENGTH} characters", {"field": "customer"})
        if any(not ch.isprintable() for ch in name):
            raise InvalidInput("customer must not contain control characters", {"field": "customer"})
        if not 1 <= len(self.lines) <= MAX_LINES:
            raise InvalidInput(f"an order has 1–{MAX_LINES} lines", {"field": "items"})
        for index, line in enumerate(self.lines):
            if not 1 <= line.quantity <= MAX_QUANTITY:
                raise InvalidInput(
                    f"quantity must be 1–{MAX_QUANTITY}", {"field": f"items[{index}].quantity"}
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer.strip(),
            "items": [
                {"item_id": line.item_id, "quantity": line.quantity, "options": dict(line.options)}
                for line in self.lines
            ],
        }


def utc_now() -> datetime:
    return datetime.now(UTC)


class CafeService:
    def __init__(
        self,
        store: OrderStore,
        menu: Menu,
        *,
        zone: ZoneInfo,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.menu = menu
        self.zone = zone
        self.clock = clock

    # -- menu and store settings -------------------------------------------------------
    def unavailable_items(self) -> frozenset[str]:
        return self.store.unavailable_items()

    def menu_document(self, unavailable: frozenset[str] | None = None) -> dict[str, Any]:
        """The menu with availability; pass ``unavailable`` when already read from the store."""
        return menu_document(
            self.menu, self.store.unavailable_items() if unavailable is None else unavailable
        )

    def set_item_available(self, item_id: str, available: bool) -> dict[str, Any]:
        self.menu.item(item_id)  # UnknownItem for an id that is not on the menu
        self.store.set_item_available(item_id, available)
        return {"id": item_id, "available": available}

    def settings(self) -> dict[str, Any]:
        settings, waiting = self.store.settings_and_waiting()
        return {**settings.to_dict(), "waiting": waiting}

    def update_settings(self, *, open: bool, max_waiting: int) -> dict[str, Any]:
        if not 0 <= max_waiting <= MAX_WAITING_LIMIT:
            raise InvalidInput(f"max_waiting must be 0–{MAX_WAITING_LIMIT}", {"field": "max_waiting"})
        self.store.put_settings(StoreSettings(open=open, max_waiting=max_waiting))
        return self.settings()

    # -- orders ------------------------------------------------------------------------
    def place_order(self, request: OrderRequest, idempotency_key: str | None = None) -> Order:
        """Price and store a new order; with a key, the same order however often it is sent."""
        return self.place_order_reporting(request, idempotency_key)[0]

    def place_order_reporting(
        self, request: OrderRequest, idempotency_key: str | None = None
    ) -> tuple[Order, bool]:
        """`place_order`, and whether this call stored the order (False: a replayed key), so a
        replay is not counted as a second sale.

        A key is remembered for ``IDEMPOTENCY_TTL_SECONDS`` with a fingerprint of the request:
        sent again with the same request it returns the order as it was placed (the response
        the first request got), with another request it is refused. The record is written in
        the same atomic step as the order, so there is no "in progress" state to wait for: of
        concurrent requests with one key one stores the order and the others return it.
        """
        request.validate()
        remember = None
        if idempotency_key is not None:
            remember = self._remember(request, idempotency_key)
        lines = self._price(request)
        now = self.clock()
        draft = Order(
            id=new_order_id(),
            customer=request.customer.strip(),
            lines=lines,
            currency=self.menu.currency,
            business_day=now.astimezone(self.zone).date().isoformat(),
            history=(StatusChange(Status.PLACED, now),),
        )
        placed = self.store.place(draft, admit=partial(self._admit, lines), remember=remember)
        if isinstance(placed, Remembered):
            assert remember is not None
            if not hmac.compare_digest(placed.fingerprint, remember.fingerprint):
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used for a different order",
                    {"field": "Idempotency-Key"},
                )
            return placed.order, False
        return placed, True

    def _remember(self, request: OrderRequest, key: str) -> Remember:
        if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not key.isprintable():
            raise InvalidInput(
                f"Idempotency-Key must be 1–{IDEMPOTENCY_KEY_MAX_LENGTH} printable characters",
                {"field": "Idempotency-Key"},
            )
        now = int(self.clock().timestamp())
        canonical = json.dumps(request.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        fingerprint = hashlib.sha256(canonical.encode()).hexdigest()
        return Remember(key, fingerprint, now=now, until=now + IDEMPOTENCY_TTL_SECONDS)

    def _price(self, request: OrderRequest) -> tuple[OrderLine, ...]:
        """The lines as the menu prices them (unknown items and options refused here)."""
        lines = []
        for line in request.lines:
            item = self.menu.item(line.item_id)
            options, unit_price = item.price_with(line.options)
            lines.append(
                OrderLine(
                    item_id=item.id,
                    name=item.name,
                    quantity=line.quantity,
                    options=options,
                    unit_price=unit_price,
                )
            )
        return tuple(lines)

    @staticmethod
    def _admit(lines: tuple[OrderLine, ...], settings: StoreSettings, unavailable: frozenset[str]) -> None:
        """Refuse the order when the store is closed or one of its items is sold out.

        The store calls this with the settings it read in the same step that stores the
        order, so a closing or a sold-out flag set on any runtime applies at once.
        """
        if not settings.open:
            raise StoreClosed("the café is not taking orders right now")
        for line in lines:
            if line.item_id in unavailable:
                raise ItemSoldOut(f"{line.name.en} is sold out", {"item_id": line.item_id})

    def get_order(self, order_id: str) -> Order:
        return self.store.get(order_id)

    def cancel_by_customer(self, order_id: str, expected_version: int | None = None) -> Order:
        return self._move(order_id, Status.CANCELLED, by_customer=True, expected_version=expected_version)

    def advance(self, order_id: str, target: Status, expected_version: int | None = None) -> Order:
        """Move the order to ``target``; with ``expected_version`` (If-Match) only from that
        version, and a retry of a change already made answers with the order as it is."""
        return self._move(order_id, target, by_customer=False, expected_version=expected_version)

    def _move(
        self, order_id: str, target: Status, *, by_customer: bool, expected_version: int | None
    ) -> Order:
        change = Transition(target, self.clock(), by_customer=by_customer, expected_version=expected_version)
        return self.store.move(order_id, change)

    def queue(self, status: Status, limit: int = 100) -> list[Order]:
        return self.store.list_by_status(status, limit)

    def orders_in(self, statuses: Iterable[Status], limit: int = 100) -> list[Order]:
        """The oldest ``limit`` orders in any of ``statuses``, oldest first."""
        found = self.store.list_by_statuses(statuses, limit)
        orders = sorted(
            chain.from_iterable(found.values()), key=lambda order: (order.created_at, order.number)
        )
        return orders[:limit]

    def pickup_board(self, limit: int = PICKUP_BOARD_LIMIT) -> dict[str, list[int]]:
        """The pickup numbers in preparation and ready, oldest first: what the shop's screen shows.

        Numbers only, never names or items: the board is public, on a screen anyone can read.
        """
        found = self.store.list_by_statuses(PICKUP_STATUSES, limit)
        return {
            "preparing": [order.number for order in found[Status.PREPARING]],
            "ready": [order.number for order in found[Status.READY]],
        }
