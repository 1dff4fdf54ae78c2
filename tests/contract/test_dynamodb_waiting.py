"""The queue cap on DynamoDB: the set of waiting ids, its pruning and the legacy count (moto).

Transitions never touch the queue item, so the set keeps the ids of orders that left until a
placement finds it full; these tests hold the cap, the count and the requests of that path.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from cafe.domain.orders import Order, OrderNotFound, Status, Transition
from cafe.stores import dynamodb_waiting
from cafe.stores.base import QueueFull
from cafe.stores.dynamodb import DynamoDBStore
from cafe.stores.dynamodb_items import (
    LEGACY_WAITING_ATTRIBUTE,
    ORDER_PREFIX,
    WAITING_IDS_ATTRIBUTE,
    order_key,
    queue_key,
)
from cafe.stores.dynamodb_waiting import WaitingList
from cafe.stores.round_trips import RoundTripCounter
from cafe.stores.schema import PARTITION_KEY, STATUS_INDEX_SORT_KEY

# The DynamoDB store tests' fixtures (a table in mock_aws; one behind moto's server) and helpers;
# the tests take the fixtures by name, which ruff calls a redefinition.
# ruff: noqa: F811
from tests.contract.test_dynamodb_store import BIG_CAP, draft, served_store, store, together, unseen  # noqa: F401


def queue_item(store: DynamoDBStore) -> dict[str, Any]:
    return store.client.get_item(TableName=store.table_name, Key=queue_key(), ConsistentRead=True).get(
        "Item", {}
    )


def ids_in_set(store: DynamoDBStore) -> set[str]:
    ids = queue_item(store).get(WAITING_IDS_ATTRIBUTE)
    return set(ids["SS"]) if ids else set()


def to_ready(store: DynamoDBStore, order: Order) -> Order:
    """Through another process, as a barista's tablet on another Lambda instance would."""
    at = order.updated_at + timedelta(minutes=1)
    unseen(store).move(order.id, Transition(Status.PREPARING, at))
    return unseen(store).move(order.id, Transition(Status.READY, at + timedelta(minutes=1)))


def test_orders_that_left_stay_in_the_set_until_a_full_set_is_pruned(store: DynamoDBStore) -> None:
    orders = [store.add(draft(), max_waiting=3) for _ in range(3)]
    for order in orders[:2]:
        to_ready(store, order)
    assert ids_in_set(store) == {order.id for order in orders}  # leaving wrote only the order
    assert store.count_waiting() == 1
    with RoundTripCounter.attached(store.client) as trips:
        placed = store.add(draft(), max_waiting=3)
    # ticket, refused transaction (the set is full), statuses, prune, the transaction again
    assert trips.operations == [
        "UpdateItem",
        "TransactWriteItems",
        "BatchGetItem",
        "UpdateItem",
        "TransactWriteItems",
    ]
    assert ids_in_set(store) == {orders[2].id, placed.id}
    assert store.count_waiting() == 2
    with RoundTripCounter.attached(store.client) as trips:
        store.add(draft(), max_waiting=3)  # room left after the prune: the usual two requests
    assert trips.operations == ["UpdateItem", "TransactWriteItems"]


def test_a_full_set_of_waiting_orders_refuses_and_stores_nothing(store: DynamoDBStore) -> None:
    for _ in range(2):
        store.add(draft(), max_waiting=2)
    refused = draft()
    with RoundTripCounter.attached(store.client) as trips, pytest.raises(QueueFull):
        store.add(refused, max_waiting=2)
    assert trips.operations == ["UpdateItem", "TransactWriteItems", "BatchGetItem"]  # nothing to prune
    with pytest.raises(OrderNotFound):
        store.get(refused.id)
    assert len(ids_in_set(store)) == 2
    assert store.count_waiting() == 2


def test_a_lower_cap_counts_every_waiting_order_of_a_larger_set(store: DynamoDBStore) -> None:
    for _ in range(4):
        store.add(draft(), max_waiting=BIG_CAP)
    with pytest.raises(QueueFull):
        store.add(draft(), max_waiting=3)  # the café lowered its cap while 4 wait
    assert store.count_waiting() == 4


def test_the_set_never_holds_more_than_the_tracked_limit(
    store: DynamoDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dynamodb_waiting, "TRACKED_LIMIT", 2)
    for _ in range(2):
        store.add(draft(), max_waiting=BIG_CAP)
    with pytest.raises(QueueFull):
        store.add(draft(), max_waiting=BIG_CAP)
    assert store.count_waiting() == 2


@pytest.mark.live
def test_concurrent_placements_on_a_set_full_of_orders_that_left_keep_the_cap(
    served_store: DynamoDBStore,
) -> None:
    for _ in range(10):
        to_ready(served_store, served_store.add(draft(), max_waiting=10))
    assert len(ids_in_set(served_store)) == 10
    results = together(30, lambda: served_store.add(draft(), max_waiting=10))
    placed = [result for result in results if isinstance(result, Order)]
    refused = [result for result in results if isinstance(result, QueueFull)]
    assert len(placed) + len(refused) == 30, [r for r in results if not isinstance(r, Order | QueueFull)]
    assert len(placed) == 10
    assert served_store.count_waiting() == 10
    assert {order.id for order in placed} <= ids_in_set(served_store)
    assert len(served_store.list_by_statuses([Status.PLACED])[Status.PLACED]) == 10


def test_the_legacy_count_is_honoured_then_folded_into_the_set(store: DynamoDBStore) -> None:
    """A queue item written by the earlier code: a count, no set."""
    waiting = [store.add(draft(), max_waiting=BIG_CAP) for _ in range(2)]
    to_ready(store, store.add(draft(), max_waiting=BIG_CAP))
    store.client.put_item(
        TableName=store.table_name, Item={**queue_key(), LEGACY_WAITING_ATTRIBUTE: {"N": "2"}}
    )
    assert store.count_waiting() == 2
    placed = store.add(draft(), max_waiting=3)
    item = queue_item(store)
    assert LEGACY_WAITING_ATTRIBUTE not in item
    assert set(item[WAITING_IDS_ATTRIBUTE]["SS"]) == {*(order.id for order in waiting), placed.id}
    with pytest.raises(QueueFull):
        store.add(draft(), max_waiting=3)
    assert store.count_waiting() == 3


def test_a_legacy_count_with_no_order_waiting_is_dropped(store: DynamoDBStore) -> None:
    store.client.put_item(
        TableName=store.table_name, Item={**queue_key(), LEGACY_WAITING_ATTRIBUTE: {"N": "0"}}
    )
    store.add(draft(), max_waiting=1)
    assert LEGACY_WAITING_ATTRIBUTE not in queue_item(store)
    assert store.count_waiting() == 1


# -- keys DynamoDB leaves unprocessed (moto never does: botocore's Stubber plays DynamoDB) ------


def _answer(order_id: str, status: Status) -> dict[str, Any]:
    return {
        PARTITION_KEY: {"S": ORDER_PREFIX + order_id},
        STATUS_INDEX_SORT_KEY: {"S": f"{status.value}#t#{order_id}"},
    }


def test_unprocessed_keys_are_asked_again_and_never_counted_as_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.setattr(dynamodb_waiting, "UNPROCESSED_BACKOFF_SECONDS", 0)
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    waiting_list = WaitingList("t", lambda: client, lambda: [])  # no legacy count here
    item = {WAITING_IDS_ATTRIBUTE: {"SS": ["a", "b", "c"]}}
    with Stubber(client) as stub:
        # a answers READY, b is left unprocessed, c does not exist; then b answers PLACED.
        stub.add_response(
            "batch_get_item",
            {
                "Responses": {"t": [_answer("a", Status.READY)]},
                "UnprocessedKeys": {"t": {"Keys": [order_key("b")]}},
            },
        )
        stub.add_response(
            "batch_get_item", {"Responses": {"t": [_answer("b", Status.PLACED)]}, "UnprocessedKeys": {}}
        )
        assert waiting_list.count(item) == 1
        stub.assert_no_pending_responses()
        unanswered = {"Responses": {"t": []}, "UnprocessedKeys": {"t": {"Keys": [order_key("a")]}}}
        for _ in range(dynamodb_waiting.UNPROCESSED_ATTEMPTS):
            stub.add_response("batch_get_item", unanswered)
        assert waiting_list.count({WAITING_IDS_ATTRIBUTE: {"SS": ["a"]}}) == 1  # kept, never dropped
        stub.assert_no_pending_responses()
