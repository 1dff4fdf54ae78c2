"""One contract, every store: memory, SQLite and DynamoDB (moto server over real HTTP)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from cafe.domain.menu import load_menu
from cafe.domain.orders import OrderNotFound, Status
from cafe.domain.settings import StoreSettings
from cafe.service import CafeService, LineRequest, OrderRequest
from cafe.stores.base import ConcurrentUpdate, OrderStore, QueueFull
from cafe.stores.memory import MemoryStore
from cafe.stores.sqlite import SQLiteStore
from tests.contract.drafts import T0, draft
from tests.contract.dynamodb_factory import make_dynamodb_store


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[OrderStore]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        sqlite = SQLiteStore(str(tmp_path / "cafe.sqlite3"))
        yield sqlite
        sqlite.close()
    else:
        with make_dynamodb_store(server=True) as dynamodb:
            yield dynamodb


def concurrent_wins(
    action: Callable[[], object], refused: type[Exception], attempts: int, workers: int
) -> int:
    """Run `action` `attempts` times on `workers` threads at once; how many were not refused."""

    def attempt(_: int) -> bool:
        try:
            action()
        except refused:
            return False
        return True

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(attempt, range(attempts))).count(True)


def test_add_numbers_orders_per_business_day(store):
    assert [store.add(draft(), max_waiting=100).number for _ in range(3)] == [1, 2, 3]
    assert store.add(draft(day="2026-11-27"), max_waiting=100).number == 1


def test_get_returns_what_was_added(store):
    added = store.add(draft(customer="김민수"), max_waiting=100)
    assert store.get(added.id) == added
    assert store.get(added.id).total == 4500


def test_unknown_order(store):
    with pytest.raises(OrderNotFound):
        store.get("no-such-order")
    with pytest.raises(OrderNotFound):
        store.replace(draft().move_to(Status.PREPARING, T0))


def test_concurrent_adds_never_share_a_number(store):
    with ThreadPoolExecutor(max_workers=16) as pool:
        orders = list(pool.map(lambda _: store.add(draft(), max_waiting=1000), range(40)))
    assert sorted(order.number for order in orders) == list(range(1, 41))


def test_queue_full_stores_nothing(store):
    store.add(draft(), max_waiting=1)
    with pytest.raises(QueueFull):
        store.add(draft(), max_waiting=1)
    assert store.count_waiting() == 1
    assert len(store.list_by_status(Status.PLACED)) == 1


def test_queue_cap_holds_under_concurrency(store):
    wins = concurrent_wins(lambda: store.add(draft(), max_waiting=5), QueueFull, attempts=24, workers=12)
    assert wins == 5
    assert store.count_waiting() == 5


def test_replace_is_optimistic(store):
    added = store.add(draft(), max_waiting=10)
    preparing = added.move_to(Status.PREPARING, T0)
    store.replace(preparing)
    with pytest.raises(ConcurrentUpdate):
        store.replace(added.move_to(Status.CANCELLED, T0))  # based on the stale version 1
    assert store.get(added.id).status is Status.PREPARING


def test_concurrent_identical_transitions_exactly_one_wins(store):
    added = store.add(draft(), max_waiting=10)

    wins = concurrent_wins(
        lambda: store.replace(added.move_to(Status.PREPARING, T0)), ConcurrentUpdate, attempts=10, workers=10
    )
    assert wins == 1
    assert store.get(added.id).version == 2


def test_waiting_count_follows_the_status_machine(store):
    a = store.add(draft(), max_waiting=10)
    b = store.add(draft(), max_waiting=10)
    assert store.count_waiting() == 2
    a2 = a.move_to(Status.PREPARING, T0)
    store.replace(a2)
    assert store.count_waiting() == 2
    store.replace(a2.move_to(Status.READY, T0))
    store.replace(b.move_to(Status.CANCELLED, T0))
    assert store.count_waiting() == 0


def test_list_by_status_is_oldest_first_and_limited(store):
    created = [store.add(draft(at=T0 + timedelta(seconds=s)), max_waiting=100) for s in (3, 1, 2)]
    listed = store.list_by_status(Status.PLACED)
    assert [o.id for o in listed] == [created[1].id, created[2].id, created[0].id]
    assert len(store.list_by_status(Status.PLACED, limit=2)) == 2
    assert store.list_by_status(Status.READY) == []


def test_settings_default_and_round_trip(store):
    assert store.get_settings() == StoreSettings()
    store.put_settings(StoreSettings(open=False, max_waiting=7))
    assert store.get_settings() == StoreSettings(open=False, max_waiting=7)


def test_availability_round_trip(store):
    assert store.unavailable_items() == frozenset()
    store.set_item_available("croissant", False)
    store.set_item_available("cheesecake", False)
    store.set_item_available("cheesecake", True)
    assert store.unavailable_items() == frozenset({"croissant"})


def test_idempotent_placement_through_the_service(store):
    service = CafeService(store, load_menu(), zone=ZoneInfo("Asia/Seoul"))
    request = OrderRequest("Kim", (LineRequest("americano", 1),))
    with ThreadPoolExecutor(max_workers=10) as pool:
        orders = list(pool.map(lambda _: service.place_order(request, "one-key"), range(10)))
    assert len({order.id for order in orders}) == 1
    assert store.count_waiting() == 1


def test_stored_orders_keep_their_history(store):
    added = store.add(draft(), max_waiting=10)
    moved = added.move_to(Status.PREPARING, T0 + timedelta(minutes=2))
    store.replace(moved)
    assert store.get(added.id).history == moved.history
    assert replace(store.get(added.id)) == moved


def test_sqlite_file_outlives_the_connection(tmp_path):
    path = str(tmp_path / "cafe.sqlite3")
    first = SQLiteStore(path)
    order = first.add(draft(), max_waiting=10)
    first.close()
    assert SQLiteStore(path).get(order.id) == order
