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


# -- the change feed (memory and SQLite keep their own; DynamoDB's is the table's stream) --------
def feed_store(store: OrderStore) -> OrderStore:
    if not store.has_feed:
        pytest.skip(f"{type(store).__name__}: the table's stream is the feed (docs/live.md)")
    return store


def test_feed_carries_every_accepted_change_in_order(store):
    import json

    store = feed_store(store)
    start = store.latest_sequence()
    placed = store.add(draft(), max_waiting=100)
    preparing = placed.move_to(Status.PREPARING, T0 + timedelta(minutes=1))
    store.replace(preparing)
    store.put_settings(StoreSettings(open=False, max_waiting=7))
    store.set_item_available("americano", False)
    events = store.feed_after(start, 100)
    assert [event.sequence for event in events] == list(range(start + 1, start + 5))
    assert store.latest_sequence() == start + 4
    assert [event.kind for event in events] == ["order", "order", "store", "menu"]
    # The public views: the order as GET /orders/{id} answers it, the settings, the item.
    assert events[0].body == placed.as_json
    assert events[1].body == preparing.as_json
    assert json.loads(events[2].body) == {"open": False, "max_waiting": 7}
    assert json.loads(events[3].body) == {"id": "americano", "available": False}
    assert store.feed_after(start + 4, 100) == []
    assert store.feed_after(start, 2) == events[:2]
    assert store.feed_after(start + 2, 100) == events[2:]


def test_feed_has_no_event_for_a_refused_change(store):
    store = feed_store(store)
    placed = store.add(draft(), max_waiting=1)
    before = store.latest_sequence()
    with pytest.raises(QueueFull):
        store.add(draft(), max_waiting=1)
    with pytest.raises(ConcurrentUpdate):
        store.replace(placed.move_to(Status.PREPARING, T0).move_to(Status.READY, T0))
    assert store.latest_sequence() == before
    assert store.feed_after(before, 10) == []


def test_feed_of_concurrent_writers_is_gapless_and_one_event_per_change(store):
    store = feed_store(store)
    start = store.latest_sequence()
    with ThreadPoolExecutor(max_workers=8) as pool:
        orders = list(pool.map(lambda _: store.add(draft(), max_waiting=1000), range(30)))
    events = store.feed_after(start, 100)
    assert [event.sequence for event in events] == list(range(start + 1, start + 31))
    assert sorted(event.body for event in events) == sorted(order.as_json for order in orders)


def test_feed_is_pruned_to_its_bound(store, monkeypatch):
    import cafe.stores.base as base
    import cafe.stores.memory as memory
    import cafe.stores.sqlite as sqlite

    store = feed_store(store)
    if isinstance(store, MemoryStore):
        from collections import deque

        store._feed = deque(store._feed, maxlen=5)
    else:
        monkeypatch.setattr(sqlite, "FEED_KEEP", 5)
        monkeypatch.setattr(sqlite, "FEED_PRUNE_EVERY", 4)
    assert base.FEED_KEEP == memory.FEED_KEEP
    for _ in range(12):
        store.set_item_available("americano", True)
    latest = store.latest_sequence()
    events = store.feed_after(0, 100)
    assert events[-1].sequence == latest
    assert len(events) <= 8  # pruned: at most the bound plus what came since the last prune
    assert events[0].sequence > 1  # a reader from 0 sees the gap and resyncs


def test_sqlite_feed_is_shared_by_every_connection_to_the_file(tmp_path):
    first, second = SQLiteStore(str(tmp_path / "f.sqlite3")), SQLiteStore(str(tmp_path / "f.sqlite3"))
    placed = first.add(draft(), max_waiting=10)
    assert [event.body for event in second.feed_after(0, 10)] == [placed.as_json]
    assert second.latest_sequence() == first.latest_sequence() == 1


def test_dynamodb_table_streams_new_images():
    from cafe.stores import schema

    arguments = schema.create_table_arguments("t")
    assert arguments["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
