"""DynamoDB-specific checks of ``DynamoDBStore`` under moto (the shared contract suite runs too).

Concurrency tests use the moto server (``served_store``): real HTTP from many threads, one
request at a time on the server side, like DynamoDB's per-request atomicity (see
``dynamodb_factory``). The rest use in-process ``mock_aws`` for speed.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from cafe.domain.orders import Order, OrderNotFound, Status, StatusChange, Transition, TransitionRefused
from cafe.domain.settings import StoreSettings
from cafe.stores.base import ConcurrentUpdate, QueueFull, Remember, Remembered
from cafe.stores.dynamodb import DynamoDBStore
from cafe.stores.dynamodb_items import ORDER_PREFIX, ORDER_SORT
from cafe.stores.round_trips import RoundTripCounter
from cafe.stores.schema import (
    IDEMPOTENCY_PARTITION,
    PARTITION_KEY,
    SORT_KEY,
    STATUS_INDEX_PARTITION_KEY,
    STATUS_INDEX_SORT_KEY,
    TIME_TO_LIVE_ATTRIBUTE,
)
from tests.contract.drafts import draft as make_draft
from tests.contract.dynamodb_factory import make_dynamodb_store

T = TypeVar("T")
DAY = "2026-11-26"
OPENING = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
BIG_CAP = 1000


@pytest.fixture
def store() -> Iterator[DynamoDBStore]:
    with make_dynamodb_store() as dynamodb_store:
        yield dynamodb_store


@pytest.fixture
def served_store() -> Iterator[DynamoDBStore]:
    with make_dynamodb_store(server=True) as dynamodb_store:
        yield dynamodb_store


def draft(day: str = DAY, at: datetime = OPENING, customer: str = "김민지") -> Order:
    return make_draft(day, at, customer, quantity=2)


def together(count: int, action: Callable[[], T]) -> list[T | Exception]:
    """Run ``action`` from ``count`` threads released at the same moment; results or errors."""
    barrier = threading.Barrier(count)

    def attempt(_: int) -> T | Exception:
        barrier.wait()
        try:
            return action()
        except Exception as error:
            return error

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(attempt, range(count)))


def advance(store: DynamoDBStore, order: Order, *targets: Status) -> Order:
    for minutes, target in enumerate(targets, start=1):
        order = order.move_to(target, order.updated_at + timedelta(minutes=minutes))
        store.replace(order)
    return order


# -- add: pickup numbers and the waiting cap ----------------------------------------------------


def test_add_numbers_orders_per_business_day_and_restarts_on_a_new_day(store: DynamoDBStore) -> None:
    first_day = [store.add(draft(), max_waiting=BIG_CAP).number for _ in range(3)]
    next_day = [store.add(draft(day="2026-11-27"), max_waiting=BIG_CAP).number for _ in range(2)]
    assert first_day == [1, 2, 3]
    assert next_day == [1, 2]


def test_added_order_reads_back_equal(store: DynamoDBStore) -> None:
    order = store.add(draft(), max_waiting=BIG_CAP)
    assert store.get(order.id) == order
    assert store.get(order.id).total == 9000


def test_get_unknown_order_is_not_found(store: DynamoDBStore) -> None:
    with pytest.raises(OrderNotFound):
        store.get("no-such-order")


@pytest.mark.live
def test_concurrent_adds_get_distinct_numbers(served_store: DynamoDBStore) -> None:
    results = together(50, lambda: served_store.add(draft(), max_waiting=BIG_CAP))
    orders = [result for result in results if isinstance(result, Order)]
    assert len(orders) == 50, [result for result in results if isinstance(result, Exception)]
    assert sorted(order.number for order in orders) == list(range(1, 51))
    assert served_store.count_waiting() == 50


def test_queue_full_at_max_waiting_stores_nothing(store: DynamoDBStore) -> None:
    for _ in range(3):
        store.add(draft(), max_waiting=3)
    refused = draft()
    with pytest.raises(QueueFull):
        store.add(refused, max_waiting=3)
    with pytest.raises(OrderNotFound):
        store.get(refused.id)
    assert store.count_waiting() == 3
    assert len(store.list_by_status(Status.PLACED)) == 3


def test_no_room_at_all_refuses_the_first_order(store: DynamoDBStore) -> None:
    with pytest.raises(QueueFull):
        store.add(draft(), max_waiting=0)
    assert store.count_waiting() == 0
    assert store.list_by_status(Status.PLACED) == []


def test_orders_that_stop_waiting_make_room(store: DynamoDBStore) -> None:
    first = store.add(draft(), max_waiting=1)
    with pytest.raises(QueueFull):
        store.add(draft(), max_waiting=1)
    advance(store, first, Status.PREPARING, Status.READY)
    assert store.add(draft(), max_waiting=1).number == 3  # the refused order left a gap


@pytest.mark.live
def test_concurrent_adds_never_exceed_max_waiting(served_store: DynamoDBStore) -> None:
    results = together(40, lambda: served_store.add(draft(), max_waiting=15))
    placed = [result for result in results if isinstance(result, Order)]
    refused = [result for result in results if isinstance(result, QueueFull)]
    assert (len(placed), len(refused)) == (15, 25)
    assert len({order.number for order in placed}) == 15
    assert served_store.count_waiting() == 15
    assert len(served_store.list_by_status(Status.PLACED)) == 15


# -- replace: optimistic concurrency and the waiting count ---------------------------------------


def test_replace_with_stale_version_is_a_concurrent_update(store: DynamoDBStore) -> None:
    order = store.add(draft(), max_waiting=BIG_CAP)
    preparing = advance(store, order, Status.PREPARING)
    stale = order.move_to(Status.CANCELLED, OPENING + timedelta(minutes=5))
    with pytest.raises(ConcurrentUpdate):
        store.replace(stale)  # changes waiting-ness: the transactional path
    with pytest.raises(ConcurrentUpdate):
        store.replace(replace(stale, history=(*order.history, StatusChange(Status.PREPARING, OPENING))))
    assert store.get(order.id) == preparing
    assert store.count_waiting() == 1


@pytest.mark.parametrize("target", [Status.PREPARING, Status.CANCELLED])
def test_replace_unknown_order_is_not_found(store: DynamoDBStore, target: Status) -> None:
    never_added = draft().move_to(target, OPENING + timedelta(minutes=1))
    with pytest.raises(OrderNotFound):
        store.replace(never_added)
    with pytest.raises(OrderNotFound):
        store.get(never_added.id)
    assert store.count_waiting() == 0


@pytest.mark.live
@pytest.mark.parametrize(
    ("before", "target"),
    [((), Status.PREPARING), ((Status.PREPARING,), Status.READY)],
    ids=["still-waiting", "stops-waiting"],
)
def test_concurrent_identical_transitions_exactly_one_wins(
    served_store: DynamoDBStore, before: tuple[Status, ...], target: Status
) -> None:
    order = advance(served_store, served_store.add(draft(), max_waiting=BIG_CAP), *before)
    moved = order.move_to(target, order.updated_at + timedelta(minutes=1))
    results = together(10, lambda: served_store.replace(moved))
    assert sum(result is None for result in results) == 1
    assert sum(isinstance(result, ConcurrentUpdate) for result in results) == 9
    assert served_store.get(order.id) == moved
    assert served_store.count_waiting() == int(target.waiting)


def unseen(store: DynamoDBStore) -> DynamoDBStore:
    """The same table through another store object: a process that has seen none of its orders."""
    return DynamoDBStore(store.table_name, client=store.client)


@pytest.mark.parametrize(
    ("before", "change"),
    [
        ((), Transition(Status.PREPARING, OPENING)),
        ((Status.PREPARING,), Transition(Status.READY, OPENING)),
        ((Status.PREPARING, Status.READY), Transition(Status.COMPLETED, OPENING)),
        ((), Transition(Status.CANCELLED, OPENING)),
        ((Status.PREPARING,), Transition(Status.CANCELLED, OPENING)),
        ((), Transition(Status.CANCELLED, OPENING, by_customer=True)),
    ],
    ids=[
        "to-preparing",
        "to-ready",
        "to-completed",
        "staff-cancel-placed",
        "staff-cancel-preparing",
        "customer-cancel",
    ],
)
def test_every_transition_is_one_update_of_an_unseen_order(
    store: DynamoDBStore, before: tuple[Status, ...], change: Transition
) -> None:
    order = advance(store, store.add(draft(), max_waiting=BIG_CAP), *before)
    change = replace(change, at=order.updated_at + timedelta(minutes=1))
    with RoundTripCounter.attached(store.client) as trips:
        moved = unseen(store).move(order.id, change)
    assert trips.operations == ["UpdateItem"]
    assert moved == change(order)
    assert store.get(order.id) == moved
    assert store.count_waiting() == int(change.target.waiting)
    assert [listed.id for listed in store.list_by_status(change.target)] == [order.id]
    assert store.list_by_status(order.status) == []


def test_an_unseen_order_in_another_status_is_refused_from_the_returned_item(store: DynamoDBStore) -> None:
    order = advance(store, store.add(draft(), max_waiting=BIG_CAP), Status.PREPARING, Status.READY)
    with RoundTripCounter.attached(store.client) as trips, pytest.raises(TransitionRefused) as refused:
        unseen(store).move(order.id, Transition(Status.PREPARING, order.updated_at))
    assert trips.operations == ["UpdateItem"]
    assert refused.value.details == {"status": "READY", "requested": "PREPARING"}
    assert store.get(order.id) == order


def test_an_unknown_order_is_not_found_in_one_call(store: DynamoDBStore) -> None:
    with RoundTripCounter.attached(store.client) as trips, pytest.raises(OrderNotFound):
        unseen(store).move("no-such-order", Transition(Status.PREPARING, OPENING))
    assert trips.operations == ["UpdateItem"]
    with pytest.raises(OrderNotFound):  # the refused update created no item
        store.get("no-such-order")


def test_an_order_stored_in_the_earlier_layout_is_read_and_moved(store: DynamoDBStore) -> None:
    """An item written before the history left the JSON body: read as before; a transition falls
    back to the conditional Put, which rewrites it in the current layout."""
    order = store.add(draft(), max_waiting=BIG_CAP)
    key = {PARTITION_KEY: {"S": ORDER_PREFIX + order.id}, SORT_KEY: {"S": ORDER_SORT}}
    item = store.client.get_item(TableName=store.table_name, Key=key)["Item"]
    kept = (PARTITION_KEY, SORT_KEY, STATUS_INDEX_PARTITION_KEY, STATUS_INDEX_SORT_KEY, "version")
    earlier = {name: item[name] for name in kept}
    store.client.put_item(TableName=store.table_name, Item={**earlier, "body": {"S": order.as_json}})
    view = unseen(store)
    assert view.get(order.id) == order
    change = Transition(Status.PREPARING, order.updated_at + timedelta(minutes=1))
    with RoundTripCounter.attached(store.client) as trips:
        moved = unseen(store).move(order.id, change)
    assert trips.operations == ["UpdateItem", "PutItem"]  # refused for want of the new keys, then written
    assert store.get(order.id) == moved == change(order)
    with RoundTripCounter.attached(store.client) as trips:
        unseen(store).move(order.id, Transition(Status.CANCELLED, moved.updated_at))
    assert trips.operations == ["UpdateItem"]  # rewritten with the sort keys of every status
    assert store.count_waiting() == 0


@pytest.mark.live
def test_of_concurrent_unseen_in_place_transitions_exactly_one_wins(served_store: DynamoDBStore) -> None:
    order = served_store.add(draft(), max_waiting=BIG_CAP)
    # Ten requests, so ten moments: one moment names one request (Transition.reached).
    moments = itertools.count(1)
    results = together(
        10,
        lambda: unseen(served_store).move(
            order.id, Transition(Status.PREPARING, order.updated_at + timedelta(seconds=next(moments)))
        ),
    )
    assert sum(isinstance(result, Order) for result in results) == 1
    assert sum(isinstance(result, TransitionRefused) for result in results) == 9
    stored = served_store.get(order.id)
    assert stored.status is Status.PREPARING
    assert stored.version == 2


@pytest.mark.parametrize(
    ("path", "waiting_after"),
    [
        ((Status.PREPARING,), 2),
        ((Status.PREPARING, Status.READY), 1),
        ((Status.PREPARING, Status.READY, Status.COMPLETED), 1),
        ((Status.CANCELLED,), 1),
        ((Status.PREPARING, Status.CANCELLED), 1),
    ],
)
def test_waiting_count_follows_the_status(
    store: DynamoDBStore, path: tuple[Status, ...], waiting_after: int
) -> None:
    order = store.add(draft(), max_waiting=BIG_CAP)
    store.add(draft(), max_waiting=BIG_CAP)
    assert store.count_waiting() == 2
    advance(store, order, *path)
    assert store.count_waiting() == waiting_after


def test_count_waiting_starts_at_zero(store: DynamoDBStore) -> None:
    assert store.count_waiting() == 0


# -- the queue by status ---------------------------------------------------------------------------


def test_list_by_status_is_oldest_first_and_follows_transitions(store: DynamoDBStore) -> None:
    minutes = [7, 1, 5, 3, 9]  # added out of time order
    added = [store.add(draft(at=OPENING + timedelta(minutes=m)), max_waiting=BIG_CAP) for m in minutes]
    by_time = sorted(added, key=lambda order: order.created_at)

    assert [order.id for order in store.list_by_status(Status.PLACED)] == [o.id for o in by_time]
    assert [order.id for order in store.list_by_status(Status.PLACED, limit=2)] == [o.id for o in by_time[:2]]
    preparing = advance(store, by_time[2], Status.PREPARING)
    assert store.list_by_status(Status.PREPARING) == [preparing]
    assert by_time[2].id not in {order.id for order in store.list_by_status(Status.PLACED)}
    assert store.list_by_status(Status.COMPLETED) == []


# -- settings and menu availability ------------------------------------------------------------------


def test_settings_default_until_saved_then_round_trip(store: DynamoDBStore) -> None:
    assert store.get_settings() == StoreSettings()
    store.put_settings(StoreSettings(open=False, max_waiting=7))
    assert store.get_settings() == StoreSettings(open=False, max_waiting=7)
    store.put_settings(StoreSettings(open=True, max_waiting=300))
    assert store.get_settings() == StoreSettings(open=True, max_waiting=300)


def test_item_availability_round_trip(store: DynamoDBStore) -> None:
    assert store.unavailable_items() == frozenset()
    store.set_item_available("croissant", False)
    store.set_item_available("latte", False)
    store.set_item_available("americano", True)
    assert store.unavailable_items() == frozenset({"croissant", "latte"})
    store.set_item_available("latte", True)
    assert store.unavailable_items() == frozenset({"croissant"})


# -- idempotency records ------------------------------------------------------------------------------


def remember(key: str = "key-1", now: int = 1_000, fingerprint: str = "f1") -> Remember:
    return Remember(key, fingerprint, now=now, until=now + 60)


def admit_all(settings: StoreSettings, unavailable: frozenset[str]) -> None:
    """Admits every placement."""


def test_placement_record_expires_with_the_table_ttl(store: DynamoDBStore) -> None:
    order = store.place(draft(), admit=admit_all, remember=remember())
    assert isinstance(order, Order)
    records = store.client.query(
        TableName=store.table_name,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": PARTITION_KEY},
        ExpressionAttributeValues={":pk": {"S": IDEMPOTENCY_PARTITION}},
    )["Items"]
    assert [record[TIME_TO_LIVE_ATTRIBUTE] for record in records] == [{"N": "1060"}]
    assert store.place(draft(), admit=admit_all, remember=remember(now=1_060)) == Remembered(order, "f1")
    # Past its time (DynamoDB's TTL deletes late): the key is free again.
    later = store.place(draft(), admit=admit_all, remember=remember(now=1_061, fingerprint="f2"))
    assert isinstance(later, Order) and later.id != order.id
    assert store.place(draft(), admit=admit_all, remember=remember(now=1_062)) == Remembered(later, "f2")


@pytest.mark.live
def test_concurrent_placements_with_one_key_store_one_order(served_store: DynamoDBStore) -> None:
    results = together(12, lambda: served_store.place(draft(), admit=admit_all, remember=remember()))
    placed = [result for result in results if isinstance(result, Order)]
    replayed = [result for result in results if isinstance(result, Remembered)]
    assert len(placed) == 1, results
    assert len(replayed) == 11
    assert all(result.order == placed[0] for result in replayed)
    assert served_store.count_waiting() == 1
    assert served_store.list_by_status(Status.PLACED) == placed


# -- table set-up and client construction -----------------------------------------------------------


def test_create_table_enables_expiry(store: DynamoDBStore) -> None:
    ttl = store.client.describe_time_to_live(TableName=store.table_name)["TimeToLiveDescription"]
    assert ttl.get("TimeToLiveStatus") == "ENABLED"
    assert ttl.get("AttributeName") == TIME_TO_LIVE_ATTRIBUTE


def test_client_is_built_lazily_on_first_use(store: DynamoDBStore) -> None:
    lazy = DynamoDBStore(store.table_name, region="us-east-1")
    assert lazy._client is None
    lazy.set_item_available("scone", False)  # same mocked account and region as the fixture
    assert store.unavailable_items() == frozenset({"scone"})
    assert lazy.client is lazy.client


def test_importing_the_adapter_does_not_import_boto3() -> None:
    code = "import sys, cafe.stores.dynamodb; print('boto3' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
