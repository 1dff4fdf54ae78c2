"""Lines several runtimes share the formula for: ALB, public IPv4, NAT and CloudWatch Logs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compare.cost.items import LineItem, line
from compare.cost.live import SSE_FRAME_BYTES, SSE_HEARTBEAT_BYTES
from compare.cost.prices import PriceBook
from compare.cost.profile import Profile
from compare.cost.sizing import hourly_held, hourly_orders, hourly_rps

GB = 1024.0**3  # AWS bills data in GB of 2^30 bytes
# One LCU is the most of these an hour (the ALB bills the largest dimension; reference.md):
LCU_NEW_CONN_PER_S = 25.0
LCU_ACTIVE_CONN_PER_MIN = 3000.0
LCU_GB_PER_HOUR = 1.0
LCU_GB_PER_HOUR_LAMBDA = 0.4
LCU_RULE_EVALUATIONS_PER_S = 1000.0
#: The first 10 rules a request is evaluated against are free; the template's listeners have no
#: rules beyond their default action (infra/templates/alb.py), so no request pays for any.
FREE_RULES = 10
LISTENER_RULES = 0
DIMENSIONS = ("new connections", "active connections", "processed bytes", "rule evaluations")


@dataclass(frozen=True)
class Lcu:
    """A month of ALB capacity units: each hour billed on its largest dimension."""

    hours: float  # LCU-hours a month
    by_dimension: dict[str, float]  # LCU-hours a month each dimension alone would bill
    binding: dict[str, int]  # open-day hours in which each dimension is the largest

    def to_dict(self) -> dict[str, Any]:
        return {
            "lcu_hours": round(self.hours, 4),
            "by_dimension_lcu_hours": {k: round(v, 4) for k, v in self.by_dimension.items()},
            "binding_hours_per_open_day": dict(self.binding),
            "rule": "each hour bills the largest of its four dimensions (25 new connections/s, 3,000 "
            "active connections a minute, 1 GB an hour, 1,000 rule evaluations/s)",
            "label": "modeled",
        }


def _stream_bytes_by_hour(profile: Profile) -> list[float]:
    """Bytes the live streams carry through the ALB in each hour of an open day: the messages
    (spread like the orders that cause them) and a heartbeat per idle interval (an upper bound)."""
    live = profile.traffic.live
    if live is None:
        return [0.0] * 24
    monthly = pushed_bytes(profile)
    days = profile.open_days_per_month
    orders = hourly_orders(profile)
    daily_orders = sum(orders)
    beats_per_hour = 3600.0 / live.heartbeat_s if live.heartbeat_s else 0.0
    return [
        (monthly / days * o / daily_orders if days and daily_orders else 0.0)
        + held * beats_per_hour * SSE_HEARTBEAT_BYTES
        for o, held in zip(orders, hourly_held(profile), strict=True)
    ]


def pushed_bytes(profile: Profile) -> float:
    """Bytes of the pushed messages a month. A message is what the GET it replaces answers, so it is
    priced at the profile's response size, as the polled answers are (``message_bytes`` sizes them
    from the store's own order only where the size decides a price: WebSocket 32 KB units)."""
    live = profile.traffic.live
    return live.messages * (profile.response_bytes + SSE_FRAME_BYTES) if live is not None else 0.0


def lcu(profile: Profile, lambda_target: bool = False) -> Lcu:
    """LCU-hours a month, per hour of an open day on its largest dimension:

    new connections (a request each, as the payload says; a stream opens one too), active
    connections (the streams held, plus each minute's new short ones), processed bytes (requests
    and answers, and the streams' messages and heartbeats), rule evaluations (none billed)."""
    per_gb = LCU_GB_PER_HOUR_LAMBDA if lambda_target else LCU_GB_PER_HOUR
    bytes_per_request = profile.request_bytes + profile.response_bytes
    totals = dict.fromkeys(DIMENSIONS, 0.0)
    binding = dict.fromkeys(DIMENSIONS, 0)
    day = 0.0
    for rps, held, stream_bytes in zip(
        hourly_rps(profile), hourly_held(profile), _stream_bytes_by_hour(profile), strict=True
    ):
        new_per_s = rps * profile.new_connections_per_request
        dims = {
            "new connections": new_per_s / LCU_NEW_CONN_PER_S,
            "active connections": (held + new_per_s * 60.0) / LCU_ACTIVE_CONN_PER_MIN,
            "processed bytes": (rps * 3600 * bytes_per_request + stream_bytes) / GB / per_gb,
            "rule evaluations": rps * max(0, LISTENER_RULES - FREE_RULES) / LCU_RULE_EVALUATIONS_PER_S,
        }
        for name, value in dims.items():
            totals[name] += value
        if rps or held:
            binding[max(dims, key=lambda name: dims[name])] += 1
        day += max(dims.values())
    days = profile.open_days_per_month
    return Lcu(day * days, {k: v * days for k, v in totals.items()}, binding)


def lcu_hours(profile: Profile, lambda_target: bool = False) -> float:
    """LCU-hours a month (``lcu``)."""
    return lcu(profile, lambda_target).hours


def alb_lines(profile: Profile, book: PriceBook, azs: int) -> list[LineItem]:
    hours = profile.hours_per_month
    units = lcu(profile)
    busiest = max(units.binding, key=lambda name: units.binding[name])
    return [
        line("ALB hours", hours, book.price("elb.alb.hour")),
        line(
            f"ALB LCU-hours (peak-shaped traffic; {busiest} the largest dimension)",
            units.hours,
            book.price("elb.alb.lcu_hour"),
            "modeled: each hour billed on the largest of new connections, active connections "
            "(streams held), processed bytes and rule evaluations",
        ),
        line(f"ALB public IPv4 addresses ({azs} AZs)", azs * hours, book.price("vpc.public_ipv4.hour")),
    ]


def nat_lines(profile: Profile, book: PriceBook) -> list[LineItem]:
    """One NAT gateway; tasks reach DynamoDB through it (no gateway endpoint), so payloads cross it."""
    hours = profile.hours_per_month
    gb = profile.monthly_requests * (profile.request_bytes + profile.response_bytes) / GB
    return [
        line("NAT gateway hours", hours, book.price("vpc.nat.hour")),
        line("NAT gateway data processed", gb, book.price("vpc.nat.gb")),
        line("NAT gateway public IPv4", hours, book.price("vpc.public_ipv4.hour")),
    ]


def log_lines(profile: Profile, book: PriceBook, bytes_per_request: float, what: str) -> list[LineItem]:
    price = book.price("cloudwatch.logs.ingest")
    gb = profile.monthly_requests * bytes_per_request / GB
    items = [line(f"CloudWatch Logs ingestion ({what}, {bytes_per_request:g} B/request)", gb, price)]
    if profile.free_tier and gb > 0:
        free = min(gb, book.free_tier("cloudwatch.logs.ingest"))
        items.append(line("CloudWatch Logs free tier (5 GB)", -free, price))
    return items
