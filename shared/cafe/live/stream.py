"""The order book's changes as DynamoDB Streams records, both ways.

On AWS the table's stream (``NEW_IMAGE``, ``cafe.stores.schema``) invokes the Lambda stream
handler with ``{"Records": [...]}``; locally the emulator reads the SQLite feed and builds the
same records with ``records_from_feed``, from the DynamoDB store's own item builders
(``cafe.stores.dynamodb_codec``), so one handler reads both and cannot tell them apart.

``changes_from_records`` is what the handler needs of a batch: the changed orders, in the
order of the records, and whether the store item changed. It reads only the keys and
``NewImage``; records of other items (the queue item, idempotency records) and deletions (TTL
expiry) are no change anyone watches.

A feed event for the store or the menu becomes the store item with only what the event tells
(settings, or the one item sold out): the feed does not carry the whole item. The handler only
needs its keys.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cafe.domain.orders import Order
from cafe.domain.settings import StoreSettings
from cafe.stores.base import FeedEvent
from cafe.stores.dynamodb_codec import order_from_item, order_item, settings_item
from cafe.stores.dynamodb_items import (
    ORDER_PREFIX,
    ORDER_SORT,
    SETTINGS_SORT,
    SOLD_OUT_ATTRIBUTE,
    STORE_PARTITION,
    settings_key,
)
from cafe.stores.schema import PARTITION_KEY, SORT_KEY

EVENT_SOURCE: Final = "aws:dynamodb"
VIEW_TYPE: Final = "NEW_IMAGE"
# The stream's own ARN locally (on AWS each record names the real one).
LOCAL_STREAM: Final = "arn:aws:dynamodb:{region}:000000000000:table/{table}/stream/local"


def _record(
    sequence: int, name: str, item: Mapping[str, Any], at: float, source: str, region: str
) -> dict[str, Any]:
    return {
        "eventID": str(sequence),
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": EVENT_SOURCE,
        "awsRegion": region,
        "eventSourceARN": source,
        "dynamodb": {
            "ApproximateCreationDateTime": int(at),
            "Keys": {PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]},
            "NewImage": dict(item),
            # DynamoDB's are decimal strings that grow along a shard; so are these.
            "SequenceNumber": f"{sequence:021d}",
            "SizeBytes": len(json.dumps(item, separators=(",", ":"))),
            "StreamViewType": VIEW_TYPE,
        },
    }


def records_from_feed(
    events: Iterable[FeedEvent], *, table: str = "cafe-orders", region: str = "us-east-1"
) -> list[dict[str, Any]]:
    """The DynamoDB Streams records the table would have produced for ``events``."""
    source = LOCAL_STREAM.format(region=region, table=table)
    records = []
    now = time.time()
    for event in events:
        document = json.loads(event.body)
        if event.kind == "order":
            order = Order.from_dict(document)
            name = "INSERT" if order.version == 1 else "MODIFY"
            records.append(
                _record(event.sequence, name, order_item(order), order.updated_at.timestamp(), source, region)
            )
        elif event.kind == "store":
            settings = StoreSettings(open=document["open"], max_waiting=document["max_waiting"])
            item = settings_item(settings)
            records.append(_record(event.sequence, "MODIFY", item, now, source, region))
        elif event.kind == "menu":
            # Only the item the event names is known: sold out, or not in the set.
            item = {**settings_key()}
            if not document["available"]:
                item[SOLD_OUT_ATTRIBUTE] = {"SS": [document["id"]]}
            records.append(_record(event.sequence, "MODIFY", item, now, source, region))
    return records


@dataclass
class Changes:
    """What a batch of records changed that someone may watch."""

    orders: list[Order] = field(default_factory=list)  # in the order of the records
    store: bool = False  # the store item: settings, sold-out items, or a placement's counter


def changes_from_records(records: Iterable[Mapping[str, Any]]) -> Changes:
    changes = Changes()
    for record in records:
        if record.get("eventName") not in ("INSERT", "MODIFY"):
            continue
        stream = record["dynamodb"]
        keys = stream["Keys"]
        partition, sort = keys[PARTITION_KEY]["S"], keys[SORT_KEY]["S"]
        if sort == ORDER_SORT and partition.startswith(ORDER_PREFIX):
            changes.orders.append(order_from_item(stream["NewImage"]))
        elif (partition, sort) == (STORE_PARTITION, SETTINGS_SORT):
            changes.store = True
    return changes
