"""Subscriptions in the connections table (``cafe.stores.schema`` ``CONNECTIONS_*``).

Two kinds of item, both expiring by the table's TTL attribute ``expiration`` (API Gateway
closes any connection after 2 h, so an item older than that is a leftover of a disconnect that
never ran):

- a subscription: pk the channel (``order#<id>``, ``board``, ``queue``), sk the connection id,
  ``since`` (the order version the subscriber already has) and, on a board or queue
  subscription, ``sent`` (the digest of the message it was sent, until the stream handler posts
  it another: ``cafe.live.connections``), so a channel's members are one ``Query``. Clearing
  ``sent`` is one ``UpdateItem`` conditioned on the digest the stream handler read, so it never
  creates an item for a subscription gone meanwhile nor clears the digest of one made again;
- the connection's own item: pk ``connection#<id>``, sk ``-``, holding the string set
  ``channels``; it is what a disconnect reads to find the subscriptions to delete, and its
  conditional ``ADD`` is what enforces the limit per connection atomically.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from cafe.live.connections import (
    MAX_SUBSCRIPTIONS,
    Clock,
    Connections,
    Subscription,
    expiry,
    too_many,
)
from cafe.stores.base import StoreUnavailable, faults_as_unavailable
from cafe.stores.dynamodb import client_config, is_store_fault
from cafe.stores.schema import CONNECTIONS_PARTITION_KEY, CONNECTIONS_SORT_KEY, TIME_TO_LIVE_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, QueryInputTypeDef

    Item = dict[str, AttributeValueTypeDef]

CONNECTION_PREFIX: Final = "connection#"
CONNECTION_SORT: Final = "-"
CHANNELS_ATTRIBUTE: Final = "channels"
SINCE_ATTRIBUTE: Final = "since"  # on a subscription: the order version sent with the current state
SENT_ATTRIBUTE: Final = "sent"  # on a board or queue subscription: the digest of the message sent
# BatchWriteItem takes at most 25 requests, and may leave some unprocessed when throttled:
# those are sent again, this often.
BATCH_LIMIT: Final = 25
BATCH_ATTEMPTS: Final = 5
BATCH_BACKOFF_SECONDS: Final = 0.05

_store_call = faults_as_unavailable(is_store_fault)


def _key(partition: str, sort: str) -> Item:
    return {CONNECTIONS_PARTITION_KEY: {"S": partition}, CONNECTIONS_SORT_KEY: {"S": sort}}


def _connection_key(connection_id: str) -> Item:
    return _key(CONNECTION_PREFIX + connection_id, CONNECTION_SORT)


class DynamoDBConnections(Connections):
    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        limit: int = MAX_SUBSCRIPTIONS,
        clock: Clock = time.time,
    ) -> None:
        super().__init__(limit=limit, clock=clock)
        self.table_name = table_name
        self._client = client
        self._endpoint_url = endpoint_url
        self._region = region
        self._lock = threading.Lock()

    @property
    def client(self) -> DynamoDBClient:
        """The injected client (the order store's), or one built on first use like the store's."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.session.Session().client(
                        "dynamodb",
                        endpoint_url=self._endpoint_url,
                        region_name=self._region,
                        config=client_config(),
                    )
        return self._client

    @_store_call
    def add(self, connection_id: str, channel: str, since: int = 0, sent: str | None = None) -> None:
        until: AttributeValueTypeDef = {"N": str(expiry(self.clock()))}
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key=_connection_key(connection_id),
                UpdateExpression="ADD #channels :channels SET #expiration = :until",
                ConditionExpression=(
                    "attribute_not_exists(#channels) OR contains(#channels, :channel)"
                    " OR size(#channels) < :limit"
                ),
                ExpressionAttributeNames={
                    "#channels": CHANNELS_ATTRIBUTE,
                    "#expiration": TIME_TO_LIVE_ATTRIBUTE,
                },
                ExpressionAttributeValues={
                    ":channels": {"SS": [channel]},
                    ":channel": {"S": channel},
                    ":limit": {"N": str(self.limit)},
                    ":until": until,
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            raise too_many(connection_id, self.limit) from None
        # After the connection's item: a subscription is never a member without being listed
        # there, so a disconnect always finds it.
        item: Item = {
            **_key(channel, connection_id),
            TIME_TO_LIVE_ATTRIBUTE: until,
            SINCE_ATTRIBUTE: {"N": str(since)},
        }
        if sent is not None:
            item[SENT_ATTRIBUTE] = {"S": sent}
        self.client.put_item(TableName=self.table_name, Item=item)

    @_store_call
    def subscriptions(self, channel: str) -> dict[str, Subscription]:
        query: QueryInputTypeDef = {
            "TableName": self.table_name,
            "KeyConditionExpression": "#pk = :channel",
            # TTL deletes lag behind (up to days): an expired item is no member.
            "FilterExpression": "#expiration > :now",
            "ProjectionExpression": "#sk, #since, #sent",
            "ExpressionAttributeNames": {
                "#pk": CONNECTIONS_PARTITION_KEY,
                "#sk": CONNECTIONS_SORT_KEY,
                "#since": SINCE_ATTRIBUTE,
                "#sent": SENT_ATTRIBUTE,
                "#expiration": TIME_TO_LIVE_ATTRIBUTE,
            },
            "ExpressionAttributeValues": {":channel": {"S": channel}, ":now": {"N": str(int(self.clock()))}},
            # A subscription added a moment ago must be seen by the change that follows it.
            "ConsistentRead": True,
        }
        found: dict[str, Subscription] = {}
        while True:
            response = self.client.query(**query)
            for item in response["Items"]:
                sent = item.get(SENT_ATTRIBUTE)
                found[item[CONNECTIONS_SORT_KEY]["S"]] = Subscription(
                    int(item[SINCE_ATTRIBUTE]["N"]), sent["S"] if sent else None
                )
            if "LastEvaluatedKey" not in response:
                return found
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @_store_call
    def clear_sent(self, channel: str, sent: Mapping[str, str]) -> None:
        # One conditional write each (BatchWriteItem has no conditions, and a put without one
        # could bring back a subscription a disconnect just deleted). At most once in a
        # subscription's life: the first change that is news to its subscriber.
        for connection_id, digest in sent.items():
            with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
                self.client.update_item(
                    TableName=self.table_name,
                    Key=_key(channel, connection_id),
                    UpdateExpression="REMOVE #sent",
                    ConditionExpression="#sent = :sent",
                    ExpressionAttributeNames={"#sent": SENT_ATTRIBUTE},
                    ExpressionAttributeValues={":sent": {"S": digest}},
                )

    @_store_call
    def channels_of(self, connection_id: str) -> set[str]:
        return self._channels_of(connection_id)

    def _channels_of(self, connection_id: str) -> set[str]:
        response = self.client.get_item(
            TableName=self.table_name, Key=_connection_key(connection_id), ConsistentRead=True
        )
        channels = response.get("Item", {}).get(CHANNELS_ATTRIBUTE)
        return set(channels["SS"]) if channels else set()

    @_store_call
    def remove(self, connection_id: str, channel: str) -> None:
        self.client.delete_item(TableName=self.table_name, Key=_key(channel, connection_id))
        # A connection that holds no subscription (or is gone) has nothing to unlist.
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.update_item(
                TableName=self.table_name,
                Key=_connection_key(connection_id),
                UpdateExpression="DELETE #channels :channels",
                # Never create a connection item for a connection already gone.
                ConditionExpression="attribute_exists(#channels)",
                ExpressionAttributeNames={"#channels": CHANNELS_ATTRIBUTE},
                ExpressionAttributeValues={":channels": {"SS": [channel]}},
            )

    @_store_call
    def remove_connection(self, connection_id: str) -> None:
        channels = self._channels_of(connection_id)
        keys = [_key(channel, connection_id) for channel in sorted(channels)] + [
            _connection_key(connection_id)
        ]
        for start in range(0, len(keys), BATCH_LIMIT):
            self._delete(keys[start : start + BATCH_LIMIT])

    def _delete(self, keys: list[Item]) -> None:
        pending: Any = {self.table_name: [{"DeleteRequest": {"Key": key}} for key in keys]}
        for attempt in range(BATCH_ATTEMPTS):
            response = self.client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(BATCH_BACKOFF_SECONDS * 2**attempt)
        # Throttled throughout: what is left would expire by TTL, but say so (and let a caller retry).
        raise StoreUnavailable(RuntimeError(f"{len(pending[self.table_name])} deletes left unprocessed"))
