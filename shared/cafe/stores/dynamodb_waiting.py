"""The queue cap on DynamoDB: the ids of the waiting orders, a superset kept on one item.

``max_waiting`` must hold however many processes place orders at once, so a placement adds its
order's id to the queue item's string set in the transaction that stores the order, on the
condition that the set is smaller than the cap.

An order leaving the queue (to READY, or cancelled) does not touch the queue item. That keeps
its transition one ``UpdateItem``, which can return the moved order; a transaction with the queue
item returns nothing, so an order the process had not seen needed a read first (two requests).
The id of an order that left stays in the set until a placement finds the set full. That
placement then reads the status of every order in the set (one consistent ``BatchGetItem``),
deletes the ids of those that left (one ``UpdateItem``) and tries its transaction again.

Why the cap still holds: an id enters the set atomically with its order, and an order that left
the queue never returns to it, so every waiting order is in the set and only ids of orders that
left are deleted: waiting ≤ size of the set ≤ ``max_waiting``. A prune costs three requests (the
refused transaction, the read, the delete) once per (``max_waiting`` − waiting) placements; the
transitions it saves are one request per order.

The queue item once held a plain count (``waiting``), kept in step by every transition. A
placement that meets it folds it into the set (the waiting orders, from the status index) and
drops it; until then ``count`` adds it to what the set holds. The index lags the table by a
fraction of a second, so an order the earlier code placed in that moment goes uncounted until it
leaves the queue: once, during the deploy that brings this layout.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from cafe.domain.orders import Status
from cafe.stores.dynamodb_items import (
    LEGACY_WAITING_ATTRIBUTE,
    ORDER_PREFIX,
    WAITING_IDS_ATTRIBUTE,
    order_key,
    queue_key,
)
from cafe.stores.schema import PARTITION_KEY, STATUS_INDEX_SORT_KEY

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

#: The most ids the set may hold, whatever ``max_waiting`` says: an item is at most 400 KB and a
#: write is billed per KB of the item, so past this many waiting orders the store refuses more.
TRACKED_LIMIT: Final = 1000
BATCH_GET_LIMIT: Final = 100  # keys per BatchGetItem request (DynamoDB's limit)
UNPROCESSED_ATTEMPTS: Final = 5
UNPROCESSED_BACKOFF_SECONDS: Final = 0.02
WAITING_STATUSES: Final = tuple(status for status in Status if status.waiting)


def tracked_cap(max_waiting: int) -> int:
    """The size the set may not reach before a placement joins it."""
    return min(max_waiting, TRACKED_LIMIT)


def _ids(queue_item: Mapping[str, Any]) -> list[str]:
    ids = queue_item.get(WAITING_IDS_ATTRIBUTE)
    return list(ids["SS"]) if ids else []


def _order_id(item: Mapping[str, Any]) -> str:
    return str(item[PARTITION_KEY]["S"]).removeprefix(ORDER_PREFIX)


def _status_of(item: Mapping[str, Any]) -> Status:
    """The status in the index sort key ("<status>#..."): every layout of an order has it."""
    return Status(item[STATUS_INDEX_SORT_KEY]["S"].split("#", 1)[0])


class WaitingList:
    """The queue item's set of waiting order ids, for one table.

    ``client`` gives the store's client (built lazily); ``waiting_in_index`` the ids of the
    orders the status index lists as waiting (the store's own query), used once, to fold a
    legacy count into the set.
    """

    def __init__(
        self,
        table_name: str,
        client: Callable[[], DynamoDBClient],
        waiting_in_index: Callable[[], Iterable[str]],
    ) -> None:
        self.table_name = table_name
        self._client = client
        self._waiting_in_index = waiting_in_index

    def join(self, order_id: str, max_waiting: int) -> TransactWriteItemTypeDef:
        """The transaction item that puts the order in the set, if the set has room."""
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": queue_key(),
                "UpdateExpression": "ADD #ids :id",
                "ConditionExpression": (
                    "attribute_not_exists(#legacy) AND (attribute_not_exists(#ids) OR size(#ids) < :cap)"
                ),
                "ExpressionAttributeNames": {
                    "#ids": WAITING_IDS_ATTRIBUTE,
                    "#legacy": LEGACY_WAITING_ATTRIBUTE,
                },
                "ExpressionAttributeValues": {
                    ":id": {"SS": [order_id]},
                    ":cap": {"N": str(tracked_cap(max_waiting))},
                },
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def make_room(self, queue_item: Mapping[str, Any] | None) -> bool:
        """After ``join``'s condition failed: True when the set may have room now (try again).

        ``queue_item`` is the item the refusal returned (None: read it here).
        """
        if queue_item is None:
            queue_item = self._read()
        if LEGACY_WAITING_ATTRIBUTE in queue_item:
            self._fold_legacy_count()
            return True
        left = [order_id for order_id, waiting in self._waiting(_ids(queue_item)).items() if not waiting]
        if not left:
            return False
        # DELETE of ids that are gone already does nothing, so concurrent prunes are harmless.
        self._client().update_item(
            TableName=self.table_name,
            Key=queue_key(),
            UpdateExpression="DELETE #ids :left",
            ExpressionAttributeNames={"#ids": WAITING_IDS_ATTRIBUTE},
            ExpressionAttributeValues={":left": {"SS": left}},
        )
        return True

    def count(self, queue_item: Mapping[str, Any] | None = None) -> int:
        """How many orders wait: those of the set still waiting (plus an unfolded legacy count)."""
        if queue_item is None:
            queue_item = self._read()
        legacy = queue_item.get(LEGACY_WAITING_ATTRIBUTE)
        counted = int(legacy["N"]) if legacy else 0
        return max(0, counted + sum(self._waiting(_ids(queue_item)).values()))

    def _read(self) -> Mapping[str, Any]:
        response = self._client().get_item(TableName=self.table_name, Key=queue_key(), ConsistentRead=True)
        return response.get("Item", {})

    def _waiting(self, order_ids: Iterable[str]) -> dict[str, bool]:
        """Whether each order still waits, read consistently (``BATCH_GET_LIMIT`` per request)."""
        waiting = dict.fromkeys(order_ids, True)
        ids = list(waiting)
        for start in range(0, len(ids), BATCH_GET_LIMIT):
            waiting.update(self._read_statuses(ids[start : start + BATCH_GET_LIMIT]))
        return waiting

    def _read_statuses(self, order_ids: list[str]) -> dict[str, bool]:
        """One BatchGetItem, asked again for the keys DynamoDB leaves unprocessed. An order that
        does not exist does not wait; one still unanswered after every attempt counts as waiting
        (kept in the set, never dropped on a guess)."""
        waiting: dict[str, bool] = {}
        pending = order_ids
        for attempt in range(UNPROCESSED_ATTEMPTS):
            response = self._client().batch_get_item(
                RequestItems={
                    self.table_name: {
                        "Keys": [order_key(order_id) for order_id in pending],
                        "ConsistentRead": True,
                        "ProjectionExpression": "#pk, #index_sk",
                        "ExpressionAttributeNames": {
                            "#pk": PARTITION_KEY,
                            "#index_sk": STATUS_INDEX_SORT_KEY,
                        },
                    }
                }
            )
            for item in response.get("Responses", {}).get(self.table_name, []):
                waiting[_order_id(item)] = _status_of(item).waiting
            unprocessed = response.get("UnprocessedKeys", {}).get(self.table_name)
            left_over = {_order_id(key) for key in unprocessed["Keys"]} if unprocessed else set()
            for order_id in pending:
                if order_id not in left_over:
                    waiting.setdefault(order_id, False)  # answered for every key: absent means gone
            pending = [order_id for order_id in pending if order_id in left_over]
            if not pending:
                break
            time.sleep(UNPROCESSED_BACKOFF_SECONDS * 2**attempt)
        return waiting

    def _fold_legacy_count(self) -> None:
        """Replace the legacy count by the ids of the waiting orders, as the status index lists them."""
        ids = list(self._waiting_in_index())
        names = {"#legacy": LEGACY_WAITING_ATTRIBUTE}
        update: dict[str, Any] = {"UpdateExpression": "REMOVE #legacy"}
        if ids:  # DynamoDB has no empty sets: with nothing waiting, only the count goes
            names["#ids"] = WAITING_IDS_ATTRIBUTE
            update = {
                "UpdateExpression": "ADD #ids :ids REMOVE #legacy",
                "ExpressionAttributeValues": {":ids": {"SS": ids}},
            }
        client = self._client()
        # Refused when another placement folded it first: then there is nothing left to do.
        with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
            client.update_item(
                TableName=self.table_name,
                Key=queue_key(),
                ConditionExpression="attribute_exists(#legacy)",
                ExpressionAttributeNames=names,
                **update,
            )
