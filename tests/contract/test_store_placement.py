"""The contract of the round-trip-saving store calls, on every store (memory, SQLite, DynamoDB).

``place`` (admission, numbering, the queue cap and the idempotency record in one step), ``move``
(optimistic transitions decided by the status machine), ``list_by_statuses`` and
``settings_and_waiting``. The fixture is the store contract suite's own: every store.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from cafe.domain.menu import ItemSoldOut
from cafe.domain.orders import Order, OrderNotFound, Status, Transition, TransitionRefused
from cafe.domain.settings import StoreSettings
from cafe.stores.base import OrderStore, QueueFull, Remember, Remembered
from tests.contract.drafts import T0, draft

# The contract suite's fixture (every store); the tests take it by name, which ruff calls a redefinition.
# ruff: noqa: F811
from tests.contract.test_store_contract import concurrent_wins, store  # noqa: F401

NOW = 1_800_000_000


def remember(key: str = "key-1", fingerprint: str = "f1", now: int = NOW) -> Remember:
    return Remember(key, fingerprint, now=now, until=now + 3600)


def admit_all(settings: StoreSettings, unavailable: frozenset[str]) -> None:
    """Admits every placement."""


def refuse_sold_out(settings: StoreSettings, unavailable: frozenset[str]) -> None:
    if "americano" in unavailable:
        raise ItemSoldOut("sold out")


def test_place_numbers_and_stores_the_order(store: OrderStore) -> None:
    placed = [store.place(draft(), admit=admit_all) for _ in range(3)]
    assert all(isinstance(order, Order) for order in placed)
    assert [order.number for order in placed if isinstance(order, Order)] == [1, 2, 3]
    assert store.count_waiting() == 3


def test_place_admits_by_the_settings_and_sold_out_items_of_the_moment(store: OrderStore) -> None:
    seen: list[tuple[StoreSettings, frozenset[str]]] = []
    store.put_settings(StoreSettings(open=False, max_waiting=7))
    store.set_item_available("americano", False)
    with pytest.raises(ItemSoldOut):
        store.place(draft(), admit=lambda *read: (seen.append(read), refuse_sold_out(*read))[1])
    assert seen == [(StoreSettings(open=False, max_waiting=7), frozenset({"americano"}))]
    assert store.count_waiting() == 0
    assert store.list_by_status(Status.PLACED) == []


def test_place_keeps_the_queue_cap_of_the_settings(store: OrderStore) -> None:
    store.put_settings(StoreSettings(open=True, max_waiting=2))
    wins = concurrent_wins(lambda: store.place(draft(), admit=admit_all), QueueFull, attempts=8, workers=8)
    assert wins == 2
    assert store.count_waiting() == 2


def test_a_remembered_placement_is_returned_not_repeated(store: OrderStore) -> None:
    first = store.place(draft(), admit=admit_all, remember=remember())
    assert isinstance(first, Order)
    again = store.place(draft(), admit=admit_all, remember=remember(fingerprint="other"))
    assert again == Remembered(first, "f1")
    assert store.count_waiting() == 1
    assert isinstance(store.place(draft(), admit=admit_all, remember=remember("key-2")), Order)


def test_a_refused_placement_leaves_its_key_free(store: OrderStore) -> None:
    store.set_item_available("americano", False)
    with pytest.raises(ItemSoldOut):
        store.place(draft(), admit=refuse_sold_out, remember=remember())
    store.set_item_available("americano", True)
    assert isinstance(store.place(draft(), admit=refuse_sold_out, remember=remember()), Order)


def test_an_expired_record_frees_its_key(store: OrderStore) -> None:
    first = store.place(draft(), admit=admit_all, remember=remember())
    assert store.place(draft(), admit=admit_all, remember=remember(now=NOW + 3600)) == Remembered(first, "f1")  # type: ignore[arg-type]
    later = store.place(draft(), admit=admit_all, remember=remember(fingerprint="f2", now=NOW + 3601))
    assert isinstance(later, Order) and isinstance(first, Order) and later.id != first.id


def test_concurrent_placements_with_one_key_store_one_order(store: OrderStore) -> None:
    results: list[Order | Remembered] = []
    concurrent_wins(
        lambda: results.append(store.place(draft(), admit=admit_all, remember=remember())),
        Exception,
        attempts=10,
        workers=10,
    )
    placed = [result for result in results if isinstance(result, Order)]
    assert len(placed) == 1 and len(results) == 10
    assert all(result.order == placed[0] for result in results if isinstance(result, Remembered))
    assert store.count_waiting() == 1


def test_move_applies_the_change_to_the_stored_order(store: OrderStore) -> None:
    added = store.add(draft(), max_waiting=10)
    moved = store.move(added.id, Transition(Status.PREPARING, T0))
    assert moved.status is Status.PREPARING and moved.version == 2
    assert store.get(added.id) == moved
    ready = store.move(added.id, Transition(Status.READY, T0))
    assert store.get(added.id) == ready
    assert store.count_waiting() == 0


def test_move_reapplies_the_change_after_another_writer(store: OrderStore) -> None:
    added = store.add(draft(), max_waiting=10)
    store.move(added.id, Transition(Status.PREPARING, T0))  # this store saw v2
    store.replace(store.get(added.id).move_to(Status.READY, T0))  # v3, as another runtime would
    completed = store.move(added.id, Transition(Status.COMPLETED, T0))
    assert completed.version == 4
    assert [change.status for change in store.get(added.id).history] == [
        Status.PLACED,
        Status.PREPARING,
        Status.READY,
        Status.COMPLETED,
    ]


def test_of_concurrent_identical_moves_exactly_one_wins(store: OrderStore) -> None:
    added = store.add(draft(), max_waiting=10)
    # Ten requests, so ten moments: one moment names one request (Transition.reached).
    moments = itertools.count(1)
    wins = concurrent_wins(
        lambda: store.move(
            added.id, Transition(Status.CANCELLED, T0 + timedelta(microseconds=next(moments)))
        ),
        TransitionRefused,
        attempts=10,
        workers=10,
    )
    assert wins == 1
    assert store.get(added.id).version == 2
    assert store.count_waiting() == 0


def test_move_of_an_unknown_order(store: OrderStore) -> None:
    with pytest.raises(OrderNotFound):
        store.move("no-such-order", Transition(Status.PREPARING, T0))


def test_list_by_statuses_reads_each_status_oldest_first(store: OrderStore) -> None:
    orders = [store.add(draft(at=T0 + timedelta(seconds=s)), max_waiting=100) for s in range(8)]
    for order in orders[2:6]:
        store.replace(order.move_to(Status.PREPARING, T0))
    for order in orders[4:6]:
        store.replace(store.get(order.id).move_to(Status.READY, T0))
    store.replace(store.get(orders[5].id).move_to(Status.COMPLETED, T0))
    store.replace(orders[7].move_to(Status.CANCELLED, T0))

    def ids(found: dict[Status, list[Order]]) -> dict[Status, list[str]]:
        return {status: [order.id for order in listed] for status, listed in found.items()}

    everything = ids(store.list_by_statuses(list(Status)))
    assert everything == {
        Status.PLACED: [orders[0].id, orders[1].id, orders[6].id],
        Status.PREPARING: [orders[2].id, orders[3].id],
        Status.READY: [orders[4].id],
        Status.COMPLETED: [orders[5].id],
        Status.CANCELLED: [orders[7].id],
    }
    assert ids(store.list_by_statuses([Status.PLACED, Status.READY], limit=2)) == {
        Status.PLACED: [orders[0].id, orders[1].id],
        Status.READY: [orders[4].id],
    }
    assert ids(store.list_by_statuses([Status.PREPARING, Status.READY], limit=1)) == {
        Status.PREPARING: [orders[2].id],
        Status.READY: [orders[4].id],
    }


def test_settings_and_waiting(store: OrderStore) -> None:
    assert store.settings_and_waiting() == (StoreSettings(), 0)
    store.add(draft(), max_waiting=10)
    store.put_settings(StoreSettings(open=False, max_waiting=9))
    store.set_item_available("croissant", False)
    assert store.settings_and_waiting() == (StoreSettings(open=False, max_waiting=9), 1)
    assert store.unavailable_items() == frozenset({"croissant"})
