"""The AWS store: every order, setting and idempotency record in one DynamoDB table.

The key layout is ``cafe.stores.schema`` (the one source of truth shared with the tests and the
CloudFormation templates). On AWS each request to DynamoDB is a network round trip of a few
milliseconds, so every operation is built from as few requests as its guarantees allow
(``bench/dynamodb_path.py`` counts them), and each guarantee of ``OrderStore`` rests on one
atomic DynamoDB request, so it holds however many Lambda instances, containers and EC2 workers
write at once:

- pickup numbers: ``UpdateItem`` on the store item (``SET n#<day> = n#<day> + 1``, atomic); it
  returns the whole item, so the same request reads the settings and sold-out items the
  placement is admitted by (a refused order leaves a gap in the numbers, never a duplicate);
- the ``max_waiting`` cap, the new order and its idempotency record: one
  ``TransactWriteItems`` (conditional ``ADD`` of the order's id to the queue item's set of
  waiting ids + conditional ``Put`` of the order + conditional ``Put`` of the record), so a
  refused order stores nothing and of concurrent placements with one key exactly one commits;
  the others get the record back from the cancellation (``ReturnValuesOnConditionCheckFailure``),
  never a second order. The set keeps the ids of orders that left the queue until a placement
  finds it full and prunes it (``cafe.stores.dynamodb_waiting``);
- transitions: only the order's item is written, so every transition is one request. For an
  order this process has seen, a ``Put`` conditional on the version it last saw (optimistic
  concurrency); when that guess is stale the refusal carries the stored order and the change is
  re-applied to it (two requests). An order this process has not seen moves by one
  ``UpdateItem`` conditioned on its status (the statuses the change is allowed from), appending
  to its history and returning the moved order; a refusal carries the stored order, from which
  the change explains itself;
- the queue and the pickup board: waiting and ready orders share one index partition sorted
  by status, so any run of consecutive statuses is one ``Query``.

The fixed part of an order is one JSON string attribute, its history a list of strings, beside
the keys, status and version the conditions need: encoding and parsing a string costs a fraction
of DynamoDB's typed maps and lists.

boto3 is imported only when the first request needs a client: importing it costs a Lambda cold
start tens of milliseconds that ``GET /health`` should not pay.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

from cafe.domain.orders import Order, OrderNotFound, Status, StatusChange, Transition
from cafe.domain.settings import StoreSettings
from cafe.errors import Unavailable
from cafe.stores.base import (
    MOVE_ATTEMPTS,
    Admit,
    ConcurrentUpdate,
    OrderStore,
    QueueFull,
    Remember,
    Remembered,
    StoreUnavailable,
    faults_as_unavailable,
)
from cafe.stores.dynamodb_codec import (
    ACTIVE_STATUSES,
    history_entry,
    index_partition,
    order_from_item,
    order_item,
    settings_from_item,
    writes_in_place,
)
from cafe.stores.dynamodb_items import (
    COUNTER_PREFIX,
    FINGERPRINT_ATTRIBUTE,
    HISTORY_ATTRIBUTE,
    MAX_WAITING_ATTRIBUTE,
    NEXT_SORT_KEY_PREFIX,
    OPEN_ATTRIBUTE,
    PLACED_ATTRIBUTE,
    QUEUE_SORT,
    SETTINGS_SORT,
    SOLD_OUT_ATTRIBUTE,
    STATUS_ATTRIBUTE,
    STORE_PARTITION,
    VERSION_ATTRIBUTE,
    number_attr,
    order_key,
    record_key,
    settings_key,
    string_attr,
)
from cafe.stores.dynamodb_waiting import TRACKED_LIMIT, WAITING_STATUSES, WaitingList
from cafe.stores.schema import (
    PARTITION_KEY,
    SORT_KEY,
    STATUS_INDEX,
    STATUS_INDEX_PARTITION_KEY,
    STATUS_INDEX_SORT_KEY,
    TIME_TO_LIVE_ATTRIBUTE,
    create_table_arguments,
)

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        PutTypeDef,
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
    )

    Item = dict[str, AttributeValueTypeDef]

# Day counters older than a week are dropped from the store item by the placements that follow.
STALE_COUNTER_DAYS: Final = range(8, 15)
# Orders whose last seen version a store remembers, to write transitions without reading first.
SEEN_ORDERS: Final = 1024

CONDITION_FAILED: Final = "ConditionalCheckFailed"
# DynamoDB cancels a transaction that touches an item another transaction is writing
# (TransactionConflict); every placement writes the queue item, so busy moments see this. It
# also cancels one whose item was throttled, with that item's reason; botocore retries neither
# (a cancellation is an answer, not a fault). Retrying is safe: a cancelled transaction wrote
# nothing.
RETRIED_CANCELLATIONS: Final = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "None", None}
)
TRANSACTION_ATTEMPTS: Final = 8
BACKOFF_BASE_SECONDS: Final = 0.02
BACKOFF_CAP_SECONDS: Final = 0.5
# How often a placement that found the set of waiting ids full prunes it and tries again.
ROOM_ATTEMPTS: Final = 3


class StoreBusy(Unavailable):
    """The table kept refusing a transaction because others touched the same items."""

    code = "store_busy"


# How botocore retries a call the table throttled or failed, or whose answer was lost (chosen
# and explained in docs/store-faults.md): "standard" mode, which retries throttling, 5xx and
# connection errors with capped, jittered exponential backoff and spends from a retry quota, so
# a table in trouble is not hammered by every request thread; three attempts in all; timeouts
# short enough that a request still answers (a 503 with Retry-After) well inside API Gateway's
# 29 s, where botocore's defaults (60 s each) would let the front door time out first.
RETRY_MODE: Final = "standard"
MAX_ATTEMPTS: Final = 3
CONNECT_TIMEOUT_SECONDS: Final = 2.0
READ_TIMEOUT_SECONDS: Final = 3.0
# The error codes with which DynamoDB says "not now" rather than "not this request".
TRANSIENT_ERROR_CODES: Final = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)


def client_config() -> Config:
    """The botocore configuration of the store's client: the retries and timeouts above."""
    from botocore.config import Config

    return Config(
        # The requests are this module's own, checked by the tests against the service
        # model; validating each one again costs CPU on every call.
        parameter_validation=False,
        retries={"mode": RETRY_MODE, "max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )


def is_store_fault(error: BaseException) -> bool:
    """Is ``error`` DynamoDB or the network failing (answer 503), not a mistake of ours (500)?"""
    from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.response.get("Error", {}).get("Code") in TRANSIENT_ERROR_CODES or status >= 500
    return isinstance(error, BotoCoreError) and not isinstance(error, ParamValidationError)


_store_call = faults_as_unavailable(is_store_fault)


def _faulted(error: BaseException) -> bool:
    """A fault met on the way, raw or already translated by an inner store call."""
    return isinstance(error, StoreUnavailable) or is_store_fault(error)


# The name compare/cost/dynamodb_units.py imports the order's item builder by.
_order_item = order_item


def _remembered_from_item(item: Mapping[str, Any]) -> Remembered:
    order = Order.from_dict(json.loads(item[PLACED_ATTRIBUTE]["S"]))
    return Remembered(order, item[FINGERPRINT_ATTRIBUTE]["S"])


def _cancellation_reasons(error: Any) -> list[dict[str, Any]]:
    """One reason per item of a cancelled transaction, in order (``Code`` ``"None"`` if fine)."""
    return list(error.response.get("CancellationReasons", []))


def _failed(reason: Mapping[str, Any]) -> bool:
    return reason.get("Code") == CONDITION_FAILED


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
        # The last version of each order this process wrote or read: the expected version of
        # its next transition. Only ever a guess for a conditional write, never an answer.
        self._seen: OrderedDict[str, Order] = OrderedDict()
        self._waiting = WaitingList(table_name, lambda: self.client, self._waiting_ids_in_index)

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
                        "dynamodb",
                        endpoint_url=self._endpoint_url,
                        region_name=self._region,
                        config=client_config(),
                    )
        return self._client

    def connect(self) -> None:
        self.client  # noqa: B018 - builds the lazily created client now

    # -- orders -------------------------------------------------------------------------------

    @_store_call
    def place(self, draft: Order, *, admit: Admit, remember: Remember | None = None) -> Order | Remembered:
        if remember is not None:
            found = self._remembered(remember)
            if found is not None:
                return found
        number, settings, sold_out = self._ticket(draft.business_day)
        admit(settings, sold_out)
        return self._commit(replace(draft, number=number), settings.max_waiting, remember)

    @_store_call
    def add(self, draft: Order, *, max_waiting: int) -> Order:
        number, _, _ = self._ticket(draft.business_day)
        placed = self._commit(replace(draft, number=number), max_waiting, None)
        assert isinstance(placed, Order)  # nothing to remember, so nothing remembered
        return placed

    def _remembered(self, remember: Remember) -> Remembered | None:
        """The unexpired placement remembered under the key, if any (TTL deletes lag behind)."""
        response = self.client.get_item(
            TableName=self.table_name, Key=record_key(remember.key), ConsistentRead=True
        )
        item = response.get("Item")
        if item is None or int(item[TIME_TO_LIVE_ATTRIBUTE]["N"]) < remember.now:
            return None
        return _remembered_from_item(item)

    def _ticket(self, business_day: str) -> tuple[int, StoreSettings, frozenset[str]]:
        """The day's next pickup number, with the settings and sold-out items of that moment."""
        today = date.fromisoformat(business_day)
        names = {"#today": COUNTER_PREFIX + business_day}
        for days in STALE_COUNTER_DAYS:
            names[f"#stale{days}"] = COUNTER_PREFIX + (today - timedelta(days=days)).isoformat()
        stale = ", ".join(name for name in names if name != "#today")
        response = self.client.update_item(
            TableName=self.table_name,
            Key=settings_key(),
            UpdateExpression=f"SET #today = if_not_exists(#today, :zero) + :one REMOVE {stale}",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={":zero": number_attr(0), ":one": number_attr(1)},
            ReturnValues="ALL_NEW",
        )
        item = response["Attributes"]
        return (int(item[COUNTER_PREFIX + business_day]["N"]), *settings_from_item(item))

    def _commit(self, order: Order, max_waiting: int, remember: Remember | None) -> Order | Remembered:
        """Store the numbered order, its place in the queue and its idempotency record at once."""
        if max_waiting <= 0:
            # The queue condition lets the first order through when no queue item exists yet.
            raise QueueFull("the queue takes no orders", {"max_waiting": max_waiting})
        items: list[TransactWriteItemTypeDef] = [
            self._waiting.join(order.id, max_waiting),
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": order_item(order),
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                }
            },
        ]
        if remember is not None:
            items.append(
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": {
                            **record_key(remember.key),
                            FINGERPRINT_ATTRIBUTE: string_attr(remember.fingerprint),
                            PLACED_ATTRIBUTE: string_attr(order.as_json),
                            TIME_TO_LIVE_ATTRIBUTE: number_attr(remember.until),
                        },
                        # Free, or remembered past its time (TTL deletes expired items late).
                        "ConditionExpression": "attribute_not_exists(#pk) OR #until < :now",
                        "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#until": TIME_TO_LIVE_ATTRIBUTE},
                        "ExpressionAttributeValues": {":now": number_attr(remember.now)},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        for _ in range(ROOM_ATTEMPTS):
            try:
                reasons = self._transact(items)
            except Exception as error:
                # The transaction may have committed before its answer was lost (a timeout, a
                # 500 after the write): ask the table rather than answer "try again" for an
                # order that exists, which a retry without a key would place twice.
                if _faulted(error) and self._exists(order.id):
                    self._see(order)
                    return order
                raise
            if reasons is None:
                self._see(order)
                return order
            if _failed(reasons[1]):
                # The order's id is 128 random bits drawn for this placement: only this
                # placement can have stored it, in an attempt whose answer was lost before
                # botocore sent it again (DynamoDB answers such a retry with success when it
                # carries the same ClientRequestToken; this is the path without).
                self._see(order)
                return order
            if remember is not None and _failed(reasons[2]):
                # Another placement with this key committed first: its order is the answer.
                if "Item" in reasons[2]:
                    return _remembered_from_item(reasons[2]["Item"])
                found = self._remembered(remember)
                if found is not None:
                    return found
            if not _failed(reasons[0]):
                raise ConcurrentUpdate("the placement was refused; try again", {"id": order.id})
            # The set of waiting ids is full: drop the orders that left the queue, then retry.
            if not self._waiting.make_room(reasons[0].get("Item")):
                break
        raise QueueFull(
            f"{max_waiting} orders are already waiting; try again shortly",
            {"max_waiting": max_waiting},
        )

    def _exists(self, order_id: str) -> bool:
        """Is the order stored? False also when the table does not answer (nothing learnt)."""
        try:
            response = self.client.get_item(
                TableName=self.table_name,
                Key=order_key(order_id),
                ConsistentRead=True,
                ProjectionExpression="#pk",
                ExpressionAttributeNames={"#pk": PARTITION_KEY},
            )
        except Exception as error:
            if is_store_fault(error):
                return False
            raise
        return "Item" in response

    @_store_call
    def get(self, order_id: str) -> Order:
        response = self.client.get_item(
            TableName=self.table_name, Key=order_key(order_id), ConsistentRead=True
        )
        if "Item" not in response:
            raise OrderNotFound(f"no order {order_id}", {"id": order_id})
        return self._see(order_from_item(response["Item"]))

    @_store_call
    def replace(self, order: Order) -> None:
        if self._write_next_version(order) is not None:
            raise ConcurrentUpdate(
                f"order {order.number} was changed by someone else; reload it and try again",
                {"id": order.id, "version": order.version - 1},
            )

    @_store_call
    def move(self, order_id: str, change: Transition) -> Order:
        try:
            return self._move(order_id, change)
        except Exception as error:
            if not _faulted(error):
                raise
            # The write may have been applied before its answer was lost: if the table shows
            # this change made, that is the answer; else the fault is.
            try:
                current = self.get(order_id)
            except StoreUnavailable:
                raise error from None
            if change.reached(current):
                return current
            raise

    def _move(self, order_id: str, change: Transition) -> Order:
        with self._lock:
            current = self._seen.get(order_id)
        if current is None or not change.allows(current):
            # Nothing seen here, or the copy seen here refuses: a copy is only a guess, and a
            # refusal may rest only on the table's current state (another process may have
            # moved the order since), so ask the table.
            if writes_in_place(change):
                moved, current = self._move_in_place(order_id, change)
                if moved is not None:
                    return moved
            if current is None:
                current = self.get(order_id)
        for _ in range(MOVE_ATTEMPTS):
            if change.reached(current):
                # Written already: by this request, whose answer was lost and whose write
                # botocore sent again, or (If-Match) by a retry of the client's.
                return current
            changed = change(current)
            stored = self._write_next_version(changed)
            if stored is None:
                return changed
            current = stored  # the guess was stale: the refusal carried the stored order
        raise ConcurrentUpdate(f"order {order_id} keeps changing; try again", {"id": order_id})

    def _move_in_place(self, order_id: str, change: Transition) -> tuple[Order | None, Order | None]:
        """``change`` as one UpdateItem on an order not read here, conditioned on its status.

        The moved order (from ALL_NEW), or None and the order as stored when its status does
        not allow the change (from ALL_OLD; ``change`` then explains the refusal) or when it was
        written before in-place transitions existed (it has no sort key for the target).
        """
        names = {
            "#status": STATUS_ATTRIBUTE,
            "#version": VERSION_ATTRIBUTE,
            "#history": HISTORY_ATTRIBUTE,
            "#index_pk": STATUS_INDEX_PARTITION_KEY,
            "#index_sk": STATUS_INDEX_SORT_KEY,
            "#next_sk": NEXT_SORT_KEY_PREFIX + change.target.value,
        }
        sources = {f":from{i}": string_attr(status.value) for i, status in enumerate(sorted(change.sources))}
        condition = f"#status IN ({', '.join(sources)}) AND attribute_exists(#next_sk)"
        expected: dict[str, AttributeValueTypeDef] = {}
        if change.expected_version is not None:
            condition += " AND #version = :expected"
            expected[":expected"] = number_attr(change.expected_version)
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=order_key(order_id),
                UpdateExpression=(
                    "SET #status = :to, #version = #version + :one,"
                    " #history = list_append(#history, :change), #index_pk = :index_pk, #index_sk = #next_sk"
                ),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    **sources,
                    **expected,
                    ":to": string_attr(change.target.value),
                    ":one": number_attr(1),
                    ":change": {"L": [history_entry(StatusChange(change.target, change.at))]},
                    ":index_pk": string_attr(index_partition(change.target)),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            stored = error.response.get("Item")
            if stored is None:
                raise OrderNotFound(f"no order {order_id}", {"id": order_id}) from None
            return None, self._see(order_from_item(stored))
        return self._see(order_from_item(response["Attributes"])), None

    def _write_next_version(self, order: Order) -> Order | None:
        """Write ``order`` if the stored one is still its previous version.

        ``None`` when written; else the order as stored (ALL_OLD on the failed condition), or
        ``OrderNotFound`` when there is none.
        """
        put: PutTypeDef = {
            "TableName": self.table_name,
            "Item": order_item(order),
            "ConditionExpression": "#version = :expected",
            "ExpressionAttributeNames": {"#version": VERSION_ATTRIBUTE},
            "ExpressionAttributeValues": {":expected": number_attr(order.version - 1)},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        stored: Mapping[str, Any] | None
        try:
            self.client.put_item(**put)
        except self.client.exceptions.ConditionalCheckFailedException as error:
            stored = error.response.get("Item")
        else:
            stored = {}
        if stored == {}:
            self._see(order)
            return None
        if stored is None:
            raise OrderNotFound(f"no order {order.id}", {"id": order.id})
        return self._see(order_from_item(stored))

    def _see(self, order: Order) -> Order:
        """Remember the newest version of ``order`` seen here (bounded, least recent out)."""
        with self._lock:
            known = self._seen.get(order.id)
            if known is None or known.version <= order.version:
                self._seen[order.id] = order
            self._seen.move_to_end(order.id)
            while len(self._seen) > SEEN_ORDERS:
                self._seen.popitem(last=False)
        return order

    def _transact(self, items: list[TransactWriteItemTypeDef]) -> list[dict[str, Any]] | None:
        """Run a transaction; ``None`` when it committed, else the cancellation reasons.

        Cancellations for conflicts with concurrent transactions or for throttling are retried
        with jittered backoff; a condition failure is returned for the caller to explain;
        anything else propagates. Each attempt carries its own ClientRequestToken, so when
        botocore sends an attempt again because its answer was lost, DynamoDB answers with the
        attempt's outcome instead of running it twice.
        """
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                self.client.transact_write_items(
                    TransactItems=items, ClientRequestToken=secrets.token_hex(16)
                )
                return None
            except self.client.exceptions.TransactionCanceledException as error:
                reasons = _cancellation_reasons(error)
                codes = {reason.get("Code") for reason in reasons}
                if CONDITION_FAILED in codes:
                    return reasons
                if not codes <= RETRIED_CANCELLATIONS:
                    raise
            delay = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
            time.sleep(random.uniform(0, delay))  # noqa: S311 - jitter, not a secret
        raise StoreBusy("the order book is busy; try again shortly")

    # -- the queue by status ---------------------------------------------------------------------

    @_store_call
    def list_by_status(self, status: Status, limit: int = 100) -> list[Order]:
        return self.list_by_statuses([status], limit)[status]

    @_store_call
    def list_by_statuses(self, statuses: Iterable[Status], limit: int = 100) -> dict[Status, list[Order]]:
        wanted = list(dict.fromkeys(statuses))
        found: dict[Status, list[Order]] = {status: [] for status in wanted}
        # Consecutive active statuses are one range of the ACTIVE partition: one query each run.
        run: list[Status] = []
        for status in (*ACTIVE_STATUSES, None):
            if status is not None and status in found:
                run.append(status)
            elif run:
                self._query_statuses(run, limit, found)
                run = []
        for status in wanted:
            if status not in ACTIVE_STATUSES:
                self._query_statuses([status], limit, found)
        return found

    def _query_statuses(self, run: list[Status], limit: int, found: dict[Status, list[Order]]) -> None:
        """Fill ``found`` with up to ``limit`` orders of each status of ``run`` (consecutive)."""
        partition = index_partition(run[0])
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "IndexName": STATUS_INDEX,
            # '#' < '$': the range holds every sort key "<status>#..." of the run's statuses.
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :first AND :last",
            "ExpressionAttributeNames": {"#pk": STATUS_INDEX_PARTITION_KEY, "#sk": STATUS_INDEX_SORT_KEY},
            "ExpressionAttributeValues": {
                ":pk": string_attr(partition),
                ":first": string_attr(f"{run[0].value}#"),
                ":last": string_attr(f"{run[-1].value}$"),
            },
            "ScanIndexForward": True,
        }
        last = found[run[-1]]
        while len(last) < limit:
            if len(run) == 1:
                query["Limit"] = limit - len(last)
            response = self.client.query(**query)
            for item in response["Items"]:
                order = self._see(order_from_item(item))
                orders = found.get(order.status)
                if orders is not None and len(orders) < limit:
                    orders.append(order)
            if "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _waiting_ids_in_index(self) -> list[str]:
        found = self.list_by_statuses(WAITING_STATUSES, limit=TRACKED_LIMIT)
        return [order.id for orders in found.values() for order in orders]

    @_store_call
    def count_waiting(self) -> int:
        return self._waiting.count()

    # -- store settings and menu availability --------------------------------------------------

    def _store_item(self) -> Mapping[str, Any]:
        response = self.client.get_item(TableName=self.table_name, Key=settings_key(), ConsistentRead=True)
        return response.get("Item", {})

    @_store_call
    def get_settings(self) -> StoreSettings:
        return settings_from_item(self._store_item())[0]

    @_store_call
    def settings_and_waiting(self) -> tuple[StoreSettings, int]:
        response = self.client.query(
            TableName=self.table_name,
            KeyConditionExpression="#pk = :store",
            ExpressionAttributeNames={"#pk": PARTITION_KEY},
            ExpressionAttributeValues={":store": string_attr(STORE_PARTITION)},
            ConsistentRead=True,
        )
        by_sort = {item[SORT_KEY]["S"]: item for item in response["Items"]}
        settings = settings_from_item(by_sort.get(SETTINGS_SORT, {}))[0]
        return settings, self._waiting.count(by_sort.get(QUEUE_SORT, {}))

    @_store_call
    def put_settings(self, settings: StoreSettings) -> None:
        # An update, not a put: the store item also holds the sold-out items and day counters.
        self.client.update_item(
            TableName=self.table_name,
            Key=settings_key(),
            UpdateExpression="SET #open = :open, #max = :max",
            ExpressionAttributeNames={"#open": OPEN_ATTRIBUTE, "#max": MAX_WAITING_ATTRIBUTE},
            ExpressionAttributeValues={
                ":open": {"BOOL": settings.open},
                ":max": number_attr(settings.max_waiting),
            },
        )

    @_store_call
    def unavailable_items(self) -> frozenset[str]:
        return settings_from_item(self._store_item())[1]

    @_store_call
    def set_item_available(self, item_id: str, available: bool) -> None:
        # DELETE of the last member removes the attribute: DynamoDB has no empty sets.
        self.client.update_item(
            TableName=self.table_name,
            Key=settings_key(),
            UpdateExpression=f"{'DELETE' if available else 'ADD'} #sold_out :item",
            ExpressionAttributeNames={"#sold_out": SOLD_OUT_ATTRIBUTE},
            ExpressionAttributeValues={":item": {"SS": [item_id]}},
        )
