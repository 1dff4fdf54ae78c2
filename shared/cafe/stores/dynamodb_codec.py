"""The DynamoDB adapter's items as values: an order and the store item to and from the attribute
maps the table holds.

Shared by the adapter (``cafe.stores.dynamodb``) and by the reader of the table's stream
(``cafe.live.stream``), whose records carry these same items: one definition of the layout, so
a stream record always decodes to the order ``GET /orders/{id}`` answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from cafe.domain.orders import Order, Status, StatusChange, Transition
from cafe.domain.settings import DEFAULT_MAX_WAITING, StoreSettings
from cafe.stores.dynamodb_items import (
    ACTIVE_PARTITION,
    BODY_ATTRIBUTE,
    CHANGING_FIELDS,
    HISTORY_ATTRIBUTE,
    MAX_WAITING_ATTRIBUTE,
    NEXT_SORT_KEY_PREFIX,
    OPEN_ATTRIBUTE,
    SOLD_OUT_ATTRIBUTE,
    STATUS_ATTRIBUTE,
    STATUS_PREFIX,
    VERSION_ATTRIBUTE,
    number_attr,
    order_key,
    settings_key,
    string_attr,
)
from cafe.stores.schema import STATUS_INDEX_PARTITION_KEY, STATUS_INDEX_SORT_KEY

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = dict[str, AttributeValueTypeDef]

# The statuses of the ACTIVE index partition. Their names sort in the order of the status
# machine (PLACED < PREPARING < READY), which makes the queue (PLACED, PREPARING) and the
# pickup board (PREPARING, READY) each one contiguous range of the partition.
ACTIVE_STATUSES: Final = (Status.PLACED, Status.PREPARING, Status.READY)


def fixed_body(order: Order) -> str:
    """The part of the order that never changes, as compact JSON."""
    fixed = {name: value for name, value in order.to_dict().items() if name not in CHANGING_FIELDS}
    return json.dumps(fixed, ensure_ascii=False, separators=(",", ":"))


def history_entry(change: StatusChange) -> AttributeValueTypeDef:
    return string_attr(f"{change.status.value}@{change.at.isoformat(timespec='microseconds')}")


def index_sort_key(status: Status, created: str, order_id: str) -> str:
    return f"{status.value}#{created}#{order_id}"


def writes_in_place(change: Transition) -> bool:
    """Can ``change`` be one UpdateItem on an order this process has not read?

    Whenever some status allows it: the queue cap's bookkeeping never needs the order's
    transition (``cafe.stores.dynamodb_waiting``), so the order is the only item written.
    """
    return bool(change.sources)


# The statuses an order can enter by one UpdateItem; each order carries its index sort key for them.
IN_PLACE_TARGETS: Final = tuple(
    status for status in Status if writes_in_place(Transition(status, datetime.min))
)


def index_partition(status: Status) -> str:
    return ACTIVE_PARTITION if status in ACTIVE_STATUSES else STATUS_PREFIX + status.value


def order_item(order: Order) -> Item:
    """The order as stored: the fixed part as JSON, status, version and history beside it (for
    conditions and in-place transitions), its index keys, and the index sort keys it will take
    when it enters a status by an in-place transition (UpdateItem cannot build strings).

    In the index the order sits in its status's partition, sorted by status and then oldest first.
    """
    created = order.created_at.isoformat(timespec="microseconds")
    return {
        **order_key(order.id),
        STATUS_INDEX_PARTITION_KEY: string_attr(index_partition(order.status)),
        STATUS_INDEX_SORT_KEY: string_attr(index_sort_key(order.status, created, order.id)),
        STATUS_ATTRIBUTE: string_attr(order.status.value),
        VERSION_ATTRIBUTE: number_attr(order.version),
        HISTORY_ATTRIBUTE: {"L": [history_entry(change) for change in order.history]},
        BODY_ATTRIBUTE: string_attr(fixed_body(order)),
        **{
            NEXT_SORT_KEY_PREFIX + status.value: string_attr(index_sort_key(status, created, order.id))
            for status in IN_PLACE_TARGETS
        },
    }


def order_from_item(item: Mapping[str, Any]) -> Order:
    """The order an item holds (``order_item``'s inverse: the same ``Order.as_json``)."""
    raw = json.loads(item[BODY_ATTRIBUTE]["S"])
    history = item.get(HISTORY_ATTRIBUTE)
    if history is not None:  # else an item written before the history left the body: all in it
        raw["history"] = [
            dict(zip(("status", "at"), entry["S"].split("@", 1), strict=True)) for entry in history["L"]
        ]
        raw["version"] = item[VERSION_ATTRIBUTE]["N"]
    return Order.from_dict(raw)


def settings_from_item(item: Mapping[str, Any]) -> tuple[StoreSettings, frozenset[str]]:
    """The settings (defaults for what was never saved) and the sold-out items of the store item."""
    open_ = item.get(OPEN_ATTRIBUTE)
    max_waiting = item.get(MAX_WAITING_ATTRIBUTE)
    settings = StoreSettings(
        open=True if open_ is None else bool(open_["BOOL"]),
        max_waiting=DEFAULT_MAX_WAITING if max_waiting is None else int(max_waiting["N"]),
    )
    sold_out = item.get(SOLD_OUT_ATTRIBUTE)
    return settings, frozenset(sold_out["SS"]) if sold_out else frozenset()


def settings_item(settings: StoreSettings, sold_out: frozenset[str] = frozenset()) -> Item:
    """The store item's settings and sold-out attributes (``settings_from_item``'s inverse).

    The adapter writes them by ``UpdateItem`` (the item also holds the day counters); this whole
    item is what a stream record shows of them.
    """
    item: Item = {
        **settings_key(),
        OPEN_ATTRIBUTE: {"BOOL": settings.open},
        MAX_WAITING_ATTRIBUTE: number_attr(settings.max_waiting),
    }
    if sold_out:  # DynamoDB has no empty sets: nothing sold out is no attribute
        item[SOLD_OUT_ATTRIBUTE] = {"SS": sorted(sold_out)}
    return item
