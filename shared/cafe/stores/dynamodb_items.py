"""The DynamoDB adapter's item layout: key values, attribute names and key builders.

``cafe.stores.schema`` holds what the templates share (key schema, index); this module the rest
of ``schema``'s table, which only the adapter's modules (``dynamodb``, ``dynamodb_waiting``) use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from cafe.stores.schema import IDEMPOTENCY_PARTITION, PARTITION_KEY, SORT_KEY

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = dict[str, AttributeValueTypeDef]

# Key values and item attributes of the layout documented in ``schema``. They are spelled only
# here because nothing outside the adapter (the templates define keys and the index) needs them.
ORDER_PREFIX: Final = "ORDER#"
ORDER_SORT: Final = "ORDER"
STORE_PARTITION: Final = "STORE"
SETTINGS_SORT: Final = "SETTINGS"
QUEUE_SORT: Final = "QUEUE"
ACTIVE_PARTITION: Final = "ACTIVE"  # index partition of the orders not yet collected
STATUS_PREFIX: Final = "STATUS#"  # index partition of each final status
BODY_ATTRIBUTE: Final = "body"  # the order's JSON (Order.to_dict) without the parts that change
VERSION_ATTRIBUTE: Final = "version"
STATUS_ATTRIBUTE: Final = "status"
HISTORY_ATTRIBUTE: Final = "history"  # list of "<status>@<iso time>", oldest first
NEXT_SORT_KEY_PREFIX: Final = "sk#"  # + status: the index sort key the order takes in that status
# What changes when an order moves: kept as attributes of their own so that a transition can be
# one UpdateItem that never needs the body (the rest of Order.to_dict is the body).
CHANGING_FIELDS: Final = frozenset({"status", "updated_at", "history", "version"})
OPEN_ATTRIBUTE: Final = "open"
MAX_WAITING_ATTRIBUTE: Final = "max_waiting"
SOLD_OUT_ATTRIBUTE: Final = "sold_out"  # string set of item ids; absent when nothing is sold out
COUNTER_PREFIX: Final = "n#"  # + business day: the day's last pickup number, on the store item
WAITING_IDS_ATTRIBUTE: Final = "waiting_ids"  # on the queue item: see cafe.stores.dynamodb_waiting
LEGACY_WAITING_ATTRIBUTE: Final = "waiting"  # the count the queue item held before waiting_ids
FINGERPRINT_ATTRIBUTE: Final = "fingerprint"
PLACED_ATTRIBUTE: Final = "order"  # the order as placed, on an idempotency record


def string_attr(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def number_attr(value: int) -> AttributeValueTypeDef:
    return {"N": str(value)}


def item_key(partition: str, sort: str) -> Item:
    return {PARTITION_KEY: string_attr(partition), SORT_KEY: string_attr(sort)}


def order_key(order_id: str) -> Item:
    return item_key(ORDER_PREFIX + order_id, ORDER_SORT)


def queue_key() -> Item:
    return item_key(STORE_PARTITION, QUEUE_SORT)


def settings_key() -> Item:
    return item_key(STORE_PARTITION, SETTINGS_SORT)


def record_key(key: str) -> Item:
    return item_key(IDEMPOTENCY_PARTITION, key)
