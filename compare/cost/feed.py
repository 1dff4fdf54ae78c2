"""The change feed on AWS: the order book's DynamoDB stream, read by a Lambda event source mapping.

Every runtime that pushes on AWS starts from the table's stream (``StreamViewType: NEW_IMAGE``,
cafe/stores/schema.py). Lambda's event source mapping polls each shard about four times a second
and invokes its function with whatever records arrived since (batch size 100, no batching
window): at a café's rates nearly every change is its own batch. Lambda's stream handler posts the
change to the subscribers (``push_lambda``); for Fargate and EC2 a small consumer function appends
each change to a feed the tasks' hubs query (the design in docs/live.md, ``push_servers``).
GetRecords calls made by a Lambda trigger are free.
"""

from __future__ import annotations

import math

from compare.cost.profile import Profile
from compare.cost.sizing import hourly_orders

#: Lambda polls each shard of a DynamoDB stream at a base rate of 4 times a second (AWS Lambda
#: developer guide, "Using AWS Lambda with Amazon DynamoDB"; reference.md).
POLLS_PER_S = 4.0
#: chalice_app's ``on_dynamodb_record(batch_size=100)``; docs/live.md's consumer the same.
BATCH_SIZE = 100
#: A café's order book is one small table: one stream shard (a shard takes 1,000 writes/s).
SHARDS = 1
SOURCE = (
    "modeled: the event source mapping polls each shard 4 times a second (AWS Lambda developer guide, "
    "reference.md); changes arrive as a Poisson stream at each hour's rate, so a poll finds one or "
    "more with probability 1 − e^(−rate/4)"
)


def changes_per_order(profile: Profile) -> float:
    """Change-feed events per order, as the census counted them (placement and each transition)."""
    live = profile.traffic.live
    return live.feed_changes / profile.monthly_orders if live is not None and profile.monthly_orders else 0.0


def batches_per_month(profile: Profile) -> float:
    """Invocations of a stream-triggered function a month: the polls that find a change."""
    per_change = changes_per_order(profile)
    polls_per_hour = POLLS_PER_S * SHARDS * 3600.0
    day = 0.0
    for orders in hourly_orders(profile):
        rate = orders * per_change / 3600.0  # changes a second
        found = polls_per_hour * (1.0 - math.exp(-rate / (POLLS_PER_S * SHARDS)))
        # A batch holds at most BATCH_SIZE records: a burst above that is more invocations.
        day += max(found, orders * per_change / BATCH_SIZE)
    return day * profile.open_days_per_month


def polls_per_month(profile: Profile) -> float:
    """GetRecords calls the event source mapping makes: it polls all month, busy or not."""
    return POLLS_PER_S * SHARDS * 3600.0 * profile.hours_per_month
