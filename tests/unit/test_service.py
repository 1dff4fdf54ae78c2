"""The service on the in-memory store: the use cases, without any I/O."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cafe.domain.menu import InvalidOption, ItemSoldOut, UnknownItem, load_menu
from cafe.domain.orders import Status, TransitionRefused
from cafe.errors import InvalidInput
from cafe.service import (
    IDEMPOTENCY_TTL_SECONDS,
    CafeService,
    IdempotencyKeyReused,
    LineRequest,
    OrderRequest,
    StoreClosed,
)
from cafe.stores.base import QueueFull
from cafe.stores.memory import MemoryStore

SEOUL = ZoneInfo("Asia/Seoul")


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 26, 0, 30, tzinfo=UTC))  # 09:30 in Seoul


@pytest.fixture
def service(clock):
    return CafeService(MemoryStore(), load_menu(), zone=SEOUL, clock=clock)


def latte(quantity: int = 1, **options: str) -> OrderRequest:
    return OrderRequest("Kim", (LineRequest("cafe-latte", quantity, options),))


def test_total_is_computed_on_the_server(service):
    order = service.place_order(
        OrderRequest(
            "Kim",
            (LineRequest("cafe-latte", 2, {"milk": "oat"}), LineRequest("croissant", 1, {"warmed": "yes"})),
        )
    )
    assert order.total == 2 * (5000 + 600) + 3800
    assert order.status is Status.PLACED
    assert order.number == 1


def test_pickup_numbers_restart_each_business_day_in_the_store_time_zone(service, clock):
    assert service.place_order(latte()).number == 1
    assert service.place_order(latte()).number == 2
    clock.now += timedelta(hours=15)  # 00:30 next day in Seoul, still the 26th in UTC
    order = service.place_order(latte())
    assert order.number == 1
    assert order.business_day == "2026-11-27"


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (OrderRequest("", (LineRequest("americano", 1),)), InvalidInput),
        (OrderRequest("x" * 41, (LineRequest("americano", 1),)), InvalidInput),
        (OrderRequest("Kim\x00", (LineRequest("americano", 1),)), InvalidInput),
        (OrderRequest("Kim", ()), InvalidInput),
        (OrderRequest("Kim", tuple(LineRequest("americano", 1) for _ in range(21))), InvalidInput),
        (OrderRequest("Kim", (LineRequest("americano", 0),)), InvalidInput),
        (OrderRequest("Kim", (LineRequest("americano", 21),)), InvalidInput),
        (OrderRequest("Kim", (LineRequest("bubble-tea", 1),)), UnknownItem),
        (OrderRequest("Kim", (LineRequest("americano", 1, {"milk": "oat"}),)), InvalidOption),
    ],
)
def test_bad_orders_are_refused_and_store_nothing(service, request_, error):
    with pytest.raises(error):
        service.place_order(request_)
    assert service.store.count_waiting() == 0


def test_boundaries_are_accepted(service):
    order = service.place_order(OrderRequest("x" * 40, tuple(LineRequest("espresso", 20) for _ in range(20))))
    assert order.total == 20 * 20 * 4000


def test_sold_out_items_cannot_be_ordered(service):
    service.set_item_available("croissant", False)
    with pytest.raises(ItemSoldOut):
        service.place_order(OrderRequest("Kim", (LineRequest("croissant", 1),)))
    service.set_item_available("croissant", True)
    assert service.place_order(OrderRequest("Kim", (LineRequest("croissant", 1),))).total == 3800


def test_marking_an_unknown_item_is_refused(service):
    with pytest.raises(UnknownItem):
        service.set_item_available("nope", False)


def test_closed_store_refuses_orders(service):
    service.update_settings(open=False, max_waiting=10)
    with pytest.raises(StoreClosed):
        service.place_order(latte())


def test_queue_cap_counts_placed_and_preparing(service):
    service.update_settings(open=True, max_waiting=2)
    first = service.place_order(latte())
    service.place_order(latte())
    with pytest.raises(QueueFull):
        service.place_order(latte())
    service.advance(first.id, Status.PREPARING)
    with pytest.raises(QueueFull):
        service.place_order(latte())
    service.advance(first.id, Status.READY)
    assert service.place_order(latte()).number == 3
    assert service.settings() == {"open": True, "max_waiting": 2, "waiting": 2}


def test_max_waiting_range(service):
    with pytest.raises(InvalidInput):
        service.update_settings(open=True, max_waiting=-1)


def test_idempotent_placement_returns_the_same_order(service):
    first = service.place_order(latte(), "key-1")
    again = service.place_order(latte(), "key-1")
    assert again.id == first.id
    assert service.store.count_waiting() == 1


def test_idempotent_replay_returns_the_first_response(service):
    # The replay answers what the first request was answered (docs/idempotency.md); the
    # order's id leads to its current state.
    first = service.place_order(latte(), "key-1")
    service.advance(first.id, Status.PREPARING)
    assert service.place_order(latte(), "key-1") == first
    assert service.get_order(first.id).status is Status.PREPARING


def test_an_expired_key_places_a_new_order(service, clock):
    first = service.place_order(latte(), "key-1")
    clock.now += timedelta(seconds=IDEMPOTENCY_TTL_SECONDS - 1)
    assert service.place_order(latte(), "key-1").id == first.id
    clock.now += timedelta(seconds=2)
    again = service.place_order(latte(), "key-1")
    assert again.id != first.id
    assert service.place_order(latte(quantity=2), "key-2").id != again.id
    assert service.place_order(latte(), "key-1").id == again.id


def test_same_key_different_body_is_refused(service):
    service.place_order(latte(), "key-1")
    with pytest.raises(IdempotencyKeyReused):
        service.place_order(latte(quantity=2), "key-1")
    assert service.store.count_waiting() == 1


def test_a_refused_placement_frees_its_key(service):
    service.update_settings(open=False, max_waiting=10)
    with pytest.raises(StoreClosed):
        service.place_order(latte(), "key-1")
    service.update_settings(open=True, max_waiting=10)
    assert service.place_order(latte(), "key-1").number == 1


@pytest.mark.parametrize("key", ["", "x" * 129, "bad\nkey"])
def test_bad_idempotency_keys(service, key):
    with pytest.raises(InvalidInput):
        service.place_order(latte(), key)


def test_concurrent_identical_keys_make_one_order(service):
    with ThreadPoolExecutor(max_workers=20) as pool:
        orders = list(pool.map(lambda _: service.place_order(latte(), "same"), range(20)))
    assert len({order.id for order in orders}) == 1
    assert service.store.count_waiting() == 1


def test_customer_cancel(service):
    order = service.place_order(latte())
    assert service.cancel_by_customer(order.id).status is Status.CANCELLED
    other = service.place_order(latte())
    service.advance(other.id, Status.PREPARING)
    with pytest.raises(TransitionRefused):
        service.cancel_by_customer(other.id)


def test_queue_lists_oldest_first(service, clock):
    ids = []
    for _minute in range(3):
        clock.now += timedelta(minutes=1)
        ids.append(service.place_order(latte()).id)
    assert [order.id for order in service.queue(Status.PLACED)] == ids
