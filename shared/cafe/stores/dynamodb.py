"""The AWS store: every order, setting and idempotency record in one DynamoDB table.

The key layout is ``cafe.stores.schema`` (the one source of truth shared with the tests and the
CloudFormation templates). Every guarantee of ``OrderStore`` is a single DynamoDB request, so it
holds however many Lambda instances, containers and EC2 workers write at once:

- pickup numbers: ``UpdateItem ADD`` on the day's counter item (atomic; a refused order leaves a
  gap in the numbers, never a duplicate);
- the ``max_waiting`` cap and the new order: one ``TransactWriteItems`` (conditional ``ADD`` on
  the queue counter + conditional ``Put``), so a refused order stores nothing;
- transitions: a ``Put`` conditional on the previous ``version`` (optimistic concurrency), inside
  a transaction with the queue counter when the order starts or stops waiting.

boto3 is imported only when the first request needs a client: importing it costs a Lambda cold
start tens of milliseconds that ``GET /health`` should not pay.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from cafe.domain.orders import Order, OrderNotFound, Status
from cafe.domain.settings import StoreSettings
from cafe.errors import Unavailable
from cafe.stores.base import ConcurrentUpdate, OrderStore, QueueFull
from cafe.stores.schema import (
    IDEMPOTENCY_PARTITION,
    PARTITION_KEY,
    SORT_KEY,
    STATUS_INDEX,
    STATUS_INDEX_PARTITION_KEY,
    STATUS_INDEX_SORT_KEY,
    TIME_TO_LIVE_ATTRIBUTE,
    create_table_arguments,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.persistence.dynamodb import (
        DynamoDBPersistenceLayer,
    )
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        PutTypeDef,
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
    )

    Item = dict[str, AttributeValueTypeDef]

# Key values and item attributes of the layout documented in ``schema``. They are spelled only
# here because nothing outside this adapter (the templates define keys and the index) needs them.
ORDER_PREFIX: Final = "ORDER#"
ORDER_SORT: Final = "ORDER"
DAY_PREFIX: Final = "DAY#"
COUNTER_SORT: Final = "COUNTER"
STORE_PARTITION: Final = "STORE"
SETTINGS_SORT: Final = "SETTINGS"
QUEUE_SORT: Final = "QUEUE"
MENU_PARTITION: Final = "MENU"
ITEM_PREFIX: Final = "ITEM#"
STATUS_PREFIX: Final = "STATUS#"
COUNTER_ATTRIBUTE: Final = "n"
WAITING_ATTRIBUTE: Final = "waiting"
VERSION_ATTRIBUTE: Final = "version"  # the key Order.to_dict() writes the version under
AVAILABLE_ATTRIBUTE: Final = "available"
ITEM_ID_ATTRIBUTE: Final = "item_id"

CONDITION_FAILED: Final = "ConditionalCheckFailed"
TRANSACTION_CONFLICT: Final = "TransactionConflict"
# DynamoDB cancels a transaction that touches an item another transaction is writing
# (TransactionConflict); every add() touches the queue counter, so busy moments see this.
# Retrying is safe: a cancelled transaction wrote nothing.
TRANSACTION_ATTEMPTS: Final = 8
BACKOFF_BASE_SECONDS: Final = 0.02
BACKOFF_CAP_SECONDS: Final = 0.5


class StoreBusy(Unavailable):
    """The table kept refusing a transaction because others touched the same items."""

    code = "store_busy"


@cache
def _codec() -> tuple[TypeSerializer, TypeDeserializer]:
    # Deferred like the client: ``boto3.dynamodb.types`` imports all of boto3.
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _serialize(values: Mapping[str, Any]) -> Item:
    serializer = _codec()[0]
    return {name: serializer.serialize(value) for name, value in values.items()}


def _deserialize(item: Mapping[str, Any]) -> dict[str, Any]:
    deserializer = _codec()[1]
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def _string(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _number(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def _key(partition: str, sort: str) -> Item:
    return {PARTITION_KEY: _string(partition), SORT_KEY: _string(sort)}


def _order_key(order_id: str) -> Item:
    return _key(ORDER_PREFIX + order_id, ORDER_SORT)


def _queue_key() -> Item:
    return _key(STORE_PARTITION, QUEUE_SORT)


def _order_item(order: Order) -> Item:
    """The order as stored: its JSON form plus the keys that place it in the status index."""
    return {
        **_serialize(order.to_dict()),
        **_order_key(order.id),
        STATUS_INDEX_PARTITION_KEY: _string(STATUS_PREFIX + order.status.value),
        STATUS_INDEX_SORT_KEY: _string(f"{order.created_at.isoformat()}#{order.id}"),
    }


def _order_from_item(item: Mapping[str, Any]) -> Order:
    return Order.from_dict(_deserialize(item))


def _cancellation_reasons(error: Any) -> list[dict[str, Any]]:
    """One reason per item of a cancelled transaction, in order (``Code`` ``"None"`` if fine)."""
    return list(error.response.get("CancellationReasons", []))


def create_table(client: DynamoDBClient, table_name: str) -> None:
    """Create the table as ``schema`` describes it, wait for it, and turn on record expiry."""
    client.create_table(**create_table_arguments(table_name))
    client.get_waiter("table_exists").wait(TableName=table_name)
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TIME_TO_LIVE_ATTRIBUTE},
    )


class DynamoDBStore(OrderStore):
    """``OrderStore`` on one DynamoDB table, through the low-level boto3 client."""

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region
        self._lock = threading.Lock()
        self._idempotency: DynamoDBPersistenceLayer | None = None

    @property
    def client(self) -> DynamoDBClient:
        """The injected client, or one built on first use (boto3 clients are thread-safe)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3

                    # A session of our own: creating clients from boto3's default session is not
                    # thread-safe, and several request threads may get here together.
                    session = boto3.session.Session()
                    self._client = session.client(
                        "dynamodb", endpoint_url=self._endpoint_url, region_name=self._region
                    )
        return self._client

    # -- orders -------------------------------------------------------------------------------

    def connect(self) -> None:
        self.client  # noqa: B018 - builds the lazily created client now

    def add(self, draft: Order, *, max_waiting: int) -> Order:
        if max_waiting <= 0:
            # The queue condition below lets the first order through when no counter exists yet.
            raise QueueFull("the queue takes no orders", {"max_waiting": max_waiting})
        order = replace(draft, number=self._next_number(draft.business_day))
        enqueue: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self.table_name,
                "Key": _queue_key(),
                "UpdateExpression": "ADD #waiting :one",
                "ConditionExpression": "attribute_not_exists(#waiting) OR #waiting < :max",
                "ExpressionAttributeNames": {"#waiting": WAITING_ATTRIBUTE},
                "ExpressionAttributeValues": {":one": _number(1), ":max": _number(max_waiting)},
            }
        }
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self.table_name,
                "Item": _order_item(order),
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
            }
        }
        reasons = self._transact([enqueue, put])
        if reasons is None:
            return order
        if reasons[0].get("Code") == CONDITION_FAILED:
            raise QueueFull(
                f"{max_waiting} orders are already waiting; try again shortly",
                {"max_waiting": max_waiting},
            )
        # 128 random bits collided: refuse rather than overwrite someone else's order.
        raise ConcurrentUpdate("an order with this id already exists", {"id": order.id})

    def _next_number(self, business_day: str) -> int:
        response = self.client.update_item(
            TableName=self.table_name,
            Key=_key(DAY_PREFIX + business_day, COUNTER_SORT),
            UpdateExpression="ADD #n :one",
            ExpressionAttributeNames={"#n": COUNTER_ATTRIBUTE},
            ExpressionAttributeValues={":one": _number(1)},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"][COUNTER_ATTRIBUTE]["N"])

    def get(self, order_id: str) -> Order:
        response = self.client.get_item(
            TableName=self.table_name, Key=_order_key(order_id), ConsistentRead=True
        )
        if "Item" not in response:
            raise OrderNotFound(f"no order {order_id}", {"id": order_id})
        return _order_from_item(response["Item"])

    def replace(self, order: Order) -> None:
        put: PutTypeDef = {
            "TableName": self.table_name,
            "Item": _order_item(order),
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {"#version": VERSION_ATTRIBUTE},
            "ExpressionAttributeValues": {":expected": _number(order.version - 1)},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        delta = self._waiting_delta(order)
        if delta == 0:
            self._put_next_version(order, put)
            return
        requeue: TransactWriteItemTypeDef = {
            "Update": {
                "TableName": self.table_name,
                "Key": _queue_key(),
                "UpdateExpression": "ADD #waiting :delta",
                "ExpressionAttributeNames": {"#waiting": WAITING_ATTRIBUTE},
                "ExpressionAttributeValues": {":delta": _number(delta)},
            }
        }
        reasons = self._transact([{"Put": put}, requeue])
        if reasons is not None:
            # Only the Put has a condition; with ALL_OLD its reason carries the stored order.
            raise self._refusal(order, old_item_returned="Item" in reasons[0])

    @staticmethod
    def _waiting_delta(order: Order) -> int:
        """+1 / -1 when this change makes the order start / stop counting against the cap."""
        if len(order.history) < 2:
            return 0
        before, after = order.history[-2].status.waiting, order.status.waiting
        return int(after) - int(before)

    def _put_next_version(self, order: Order, put: PutTypeDef) -> None:
        try:
            self.client.put_item(**put)
        except self.client.exceptions.ConditionalCheckFailedException as error:
            raise self._refusal(order, old_item_returned="Item" in error.response) from error

    @staticmethod
    def _refusal(order: Order, *, old_item_returned: bool) -> ConcurrentUpdate | OrderNotFound:
        """Why a version-conditional write failed: ALL_OLD returns the stored item if there is one."""
        if old_item_returned:
            return ConcurrentUpdate(
                f"order {order.number} was changed by someone else; reload it and try again",
                {"id": order.id, "version": order.version - 1},
            )
        return OrderNotFound(f"no order {order.id}", {"id": order.id})

    def _transact(self, items: list[TransactWriteItemTypeDef]) -> list[dict[str, Any]] | None:
        """Run a transaction; ``None`` when it committed, else the cancellation reasons.

        Conflicts with concurrent transactions are retried with jittered backoff; a condition
        failure is returned for the caller to explain; anything else propagates.
        """
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self.client.transact_write_items(TransactItems=items)
                return None
            except self.client.exceptions.TransactionCanceledException as error:
                reasons = _cancellation_reasons(error)
                codes = {reason.get("Code") for reason in reasons}
                if CONDITION_FAILED in codes:
                    return reasons
                if TRANSACTION_CONFLICT not in codes:
                    raise
            delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
            time.sleep(random.uniform(0, delay))  # noqa: S311 - jitter, not a secret
        raise StoreBusy("the order book is busy; try again shortly")

    def list_by_status(self, status: Status, limit: int = 100) -> list[Order]:
        orders: list[Order] = []
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "IndexName": STATUS_INDEX,
            "KeyConditionExpression": "#status_key = :status",
            "ExpressionAttributeNames": {"#status_key": STATUS_INDEX_PARTITION_KEY},
            "ExpressionAttributeValues": {":status": _string(STATUS_PREFIX + status.value)},
            "ScanIndexForward": True,
        }
        while len(orders) < limit:
            query["Limit"] = limit - len(orders)
            response = self.client.query(**query)
            orders.extend(_order_from_item(item) for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return orders

    def count_waiting(self) -> int:
        response = self.client.get_item(TableName=self.table_name, Key=_queue_key(), ConsistentRead=True)
        waiting = response.get("Item", {}).get(WAITING_ATTRIBUTE)
        return int(waiting["N"]) if waiting else 0

    # -- store settings and menu availability --------------------------------------------------

    def get_settings(self) -> StoreSettings:
        response = self.client.get_item(
            TableName=self.table_name, Key=_key(STORE_PARTITION, SETTINGS_SORT), ConsistentRead=True
        )
        if "Item" not in response:
            return StoreSettings()
        stored = _deserialize(response["Item"])
        return StoreSettings(open=bool(stored["open"]), max_waiting=int(stored["max_waiting"]))

    def put_settings(self, settings: StoreSettings) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item={**_serialize(settings.to_dict()), **_key(STORE_PARTITION, SETTINGS_SORT)},
        )

    def unavailable_items(self) -> frozenset[str]:
        sold_out: set[str] = set()
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :menu AND begins_with(#sk, :item)",
            "FilterExpression": "#available = :false",
            "ExpressionAttributeNames": {
                "#pk": PARTITION_KEY,
                "#sk": SORT_KEY,
                "#available": AVAILABLE_ATTRIBUTE,
            },
            "ExpressionAttributeValues": {
                ":menu": _string(MENU_PARTITION),
                ":item": _string(ITEM_PREFIX),
                ":false": {"BOOL": False},
            },
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**query)
            sold_out.update(item[ITEM_ID_ATTRIBUTE]["S"] for item in response["Items"])
            if "LastEvaluatedKey" not in response:
                return frozenset(sold_out)
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def set_item_available(self, item_id: str, available: bool) -> None:
        self.client.put_item(
            TableName=self.table_name,
            Item={
                **_key(MENU_PARTITION, ITEM_PREFIX + item_id),
                ITEM_ID_ATTRIBUTE: _string(item_id),
                AVAILABLE_ATTRIBUTE: {"BOOL": available},
            },
        )

    # -- idempotency ----------------------------------------------------------------------------

    def idempotency_layer(self) -> DynamoDBPersistenceLayer:
        """Powertools' DynamoDB layer on this table (``IDEMPOTENCY`` partition), built once."""
        if self._idempotency is None:
            client = self.client  # outside the lock: building it takes the same lock
            with self._lock:
                if self._idempotency is None:
                    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

                    self._idempotency = DynamoDBPersistenceLayer(
                        table_name=self.table_name,
                        key_attr=PARTITION_KEY,
                        sort_key_attr=SORT_KEY,
                        static_pk_value=IDEMPOTENCY_PARTITION,
                        expiry_attr=TIME_TO_LIVE_ATTRIBUTE,
                        boto3_client=client,
                    )
        return self._idempotency
