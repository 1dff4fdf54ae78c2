"""The service layer: every use case of the café, on top of a store and the menu.

Adapters (the three runtimes) call only this; it raises ``CafeError`` subclasses and knows
nothing of HTTP or AWS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from cafe.domain.menu import ItemSoldOut, Menu, menu_document
from cafe.domain.orders import Order, OrderLine, Status, StatusChange, new_order_id
from cafe.domain.settings import MAX_WAITING_LIMIT, StoreSettings
from cafe.errors import Conflict, InvalidInput, Unavailable
from cafe.stores.base import OrderStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

CUSTOMER_MAX_LENGTH = 40
MAX_LINES = 20
MAX_QUANTITY = 20
IDEMPOTENCY_KEY_MAX_LENGTH = 128
# Completed placements are remembered this long: a retry within a day returns the same order.
IDEMPOTENCY_TTL_SECONDS = 24 * 3600
# An abandoned INPROGRESS record (its server died mid-request) blocks its key this long at most.
IN_PROGRESS_DEADLINE_MS = 30_000
# How long a duplicate request waits for the first one with the same key to finish.
IN_PROGRESS_WAIT_SECONDS = 10.0
# The pickup board shows at most this many numbers per column (more would not fit a screen).
PICKUP_BOARD_LIMIT = 200


class StoreClosed(Unavailable):
    code = "store_closed"


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"


class RequestInProgress(Conflict):
    code = "request_in_progress"


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


class _Deadline:
    """Stands in for a Lambda context outside Lambda: powertools reads the remaining time to
    decide when an INPROGRESS record counts as abandoned."""

    def __init__(self, remaining_ms: int) -> None:
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


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
        return {**self.store.get_settings().to_dict(), "waiting": self.store.count_waiting()}

    def update_settings(self, *, open: bool, max_waiting: int) -> dict[str, Any]:
        if not 0 <= max_waiting <= MAX_WAITING_LIMIT:
            raise InvalidInput(f"max_waiting must be 0–{MAX_WAITING_LIMIT}", {"field": "max_waiting"})
        self.store.put_settings(StoreSettings(open=open, max_waiting=max_waiting))
        return self.settings()

    # -- orders ------------------------------------------------------------------------
    def place_order(self, request: OrderRequest, idempotency_key: str | None = None) -> Order:
        """Price and store a new order; with a key, the same order however often it is sent."""
        request.validate()
        if idempotency_key is None:
            return self._place(request)
        return self._place_once(request, idempotency_key)

    def _place(self, request: OrderRequest) -> Order:
        settings = self.store.get_settings()
        if not settings.open:
            raise StoreClosed("the café is not taking orders right now")
        unavailable = self.store.unavailable_items()
        lines = []
        for line in request.lines:
            item = self.menu.item(line.item_id)
            if item.id in unavailable:
                raise ItemSoldOut(f"{item.name.en} is sold out", {"item_id": item.id})
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
        now = self.clock()
        draft = Order(
            id=new_order_id(),
            customer=request.customer.strip(),
            lines=tuple(lines),
            currency=self.menu.currency,
            business_day=now.astimezone(self.zone).date().isoformat(),
            history=(StatusChange(Status.PLACED, now),),
        )
        return self.store.add(draft, max_waiting=settings.max_waiting)

    def _place_once(self, request: OrderRequest, key: str) -> Order:
        if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH or not key.isprintable():
            raise InvalidInput(
                f"Idempotency-Key must be 1–{IDEMPOTENCY_KEY_MAX_LENGTH} printable characters",
                {"field": "Idempotency-Key"},
            )
        # Imported here: only order placement pays for it, not a cold start serving the menu.
        from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
        from aws_lambda_powertools.utilities.idempotency.exceptions import (
            IdempotencyAlreadyInProgressError,
            IdempotencyValidationError,
        )

        config = IdempotencyConfig(
            event_key_jmespath="key",
            payload_validation_jmespath="request",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
        )
        config.register_lambda_context(cast("LambdaContext", _Deadline(IN_PROGRESS_DEADLINE_MS)))

        # The fixed key_prefix makes a key mean the same on every runtime (powertools would
        # otherwise prefix it with the Lambda function name, which only Lambda has).
        def place_and_remember(payload: dict[str, Any]) -> dict[str, Any]:
            return {"id": self._place(request).id}

        place = cast(
            Callable[..., dict[str, Any]],
            idempotent_function(
                place_and_remember,
                data_keyword_argument="payload",
                persistence_store=self.store.idempotency_layer(),
                config=config,
                key_prefix="cafe.place_order",
            ),
        )

        payload = {"key": key, "request": request.to_dict()}
        deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
        while True:
            try:
                placed = place(payload=payload)
                # The current state of the order, not a stale copy of the first response.
                return self.store.get(placed["id"])
            except IdempotencyValidationError:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used for a different order",
                    {"field": "Idempotency-Key"},
                ) from None
            except IdempotencyAlreadyInProgressError:
                if time.monotonic() > deadline:
                    raise RequestInProgress(
                        "an order with this Idempotency-Key is still being placed; retry shortly"
                    ) from None
                time.sleep(0.02)

    def get_order(self, order_id: str) -> Order:
        return self.store.get(order_id)

    def cancel_by_customer(self, order_id: str) -> Order:
        return self._move(order_id, Status.CANCELLED, by_customer=True)

    def advance(self, order_id: str, target: Status) -> Order:
        return self._move(order_id, target, by_customer=False)

    def _move(self, order_id: str, target: Status, *, by_customer: bool) -> Order:
        current = self.store.get(order_id)
        changed = current.move_to(target, self.clock(), by_customer=by_customer)
        self.store.replace(changed)
        return changed

    def queue(self, status: Status, limit: int = 100) -> list[Order]:
        return self.store.list_by_status(status, limit)

    def pickup_board(self, limit: int = PICKUP_BOARD_LIMIT) -> dict[str, list[int]]:
        """The pickup numbers in preparation and ready, oldest first: what the shop's screen shows.

        Numbers only, never names or items: the board is public, on a screen anyone can read.
        """
        return {
            "preparing": [order.number for order in self.queue(Status.PREPARING, limit)],
            "ready": [order.number for order in self.queue(Status.READY, limit)],
        }
