"""Costs every runtime pays alike — DynamoDB on-demand and data transfer out — shown once.

Keeping them out of the per-runtime totals stops them from hiding the difference between runtimes;
the per-1,000-orders figures are given with and without them.
"""

from __future__ import annotations

from typing import Any

from compare.cost.dynamodb_units import live_read_units, monthly_units
from compare.cost.items import LineItem, line, total
from compare.cost.network import GB, pushed_bytes
from compare.cost.prices import PriceBook
from compare.cost.profile import Profile

# Where the units come from: the routes the census counted, each route's calls and its items' sizes.
UNITS_BASIS = "modeled: census requests per route × the calls each route makes × DynamoDB's unit rules"


def items(profile: Profile, book: PriceBook) -> list[LineItem]:
    req = profile.monthly_requests
    inp = profile.inputs
    reads, writes = monthly_units(profile.traffic.by_route, profile.queue())
    out = [
        line("DynamoDB on-demand reads", reads, book.price("dynamodb.ondemand.read"), UNITS_BASIS),
        line("DynamoDB on-demand writes", writes, book.price("dynamodb.ondemand.write"), UNITS_BASIS),
    ]
    live = profile.traffic.live
    pushed_gb = 0.0
    if live is not None:
        # Every runtime reads a new subscriber's current state (its first message) alike.
        reads_of = live_read_units(profile.queue())
        state = sum(p.subscriptions * reads_of[p.channel] for p in live.pages.values())
        out.append(
            line(
                "DynamoDB reads: each live subscription's current state",
                state,
                book.price("dynamodb.ondemand.read"),
                "modeled: the census's subscriptions per page × the hub's read of its channel",
            )
        )
        pushed_gb = pushed_bytes(profile) / GB
    storage = book.price("dynamodb.storage")
    out.append(
        line("DynamoDB storage", profile.dynamodb_storage_gb, storage, inp.label("dynamodb.storage_gb"))
    )
    out.append(
        line(
            "DynamoDB point-in-time recovery (the data stack turns it on)",
            profile.dynamodb_storage_gb,
            book.price("dynamodb.pitr"),
            inp.label("dynamodb.storage_gb"),
        )
    )
    transfer = book.price("transfer.out.internet")
    gb = req * profile.response_bytes / GB + pushed_gb
    out.append(
        line(
            "Data transfer out to the internet (responses" + (", pushed messages)" if live else ")"),
            gb,
            transfer,
            inp.label("payload.response_bytes"),
        )
    )
    if profile.free_tier:
        free_storage = min(profile.dynamodb_storage_gb, book.free_tier("dynamodb.storage"))
        out.append(line("DynamoDB free tier (25 GB storage)", -free_storage, storage))
        out.append(
            line(
                "Data transfer free tier (100 GB)",
                -min(gb, book.free_tier("transfer.out.internet")),
                transfer,
            )
        )
    return out


def summary(profile: Profile, book: PriceBook) -> dict[str, Any]:
    lines = items(profile, book)
    return {
        "monthly_usd": round(total(lines), 4),
        "label": "modeled",
        "note": "paid alike by Lambda, Fargate and EC2; not included in each runtime's monthly_usd",
        "items": [i.to_dict() for i in lines],
    }
