"""Lines several runtimes share the formula for: ALB, public IPv4, NAT and CloudWatch Logs."""

from __future__ import annotations

from compare.cost.items import LineItem, line
from compare.cost.prices import PriceBook
from compare.cost.profile import Profile
from compare.cost.sizing import hourly_rps

GB = 1024.0**3  # AWS bills data in GB of 2^30 bytes
LCU_NEW_CONN_PER_S = 25.0
LCU_GB_PER_HOUR = 1.0
LCU_GB_PER_HOUR_LAMBDA = 0.4


def lcu_hours(profile: Profile, lambda_target: bool = False) -> float:
    """LCU-hours a month: each hour is billed on its largest dimension (new connections or bytes).

    Active connections and rule evaluations stay far below their LCU thresholds for a café (one
    listener rule, short requests), so they are not modeled.
    """
    per_gb = LCU_GB_PER_HOUR_LAMBDA if lambda_target else LCU_GB_PER_HOUR
    bytes_per_request = profile.request_bytes + profile.response_bytes
    day = 0.0
    for rps in hourly_rps(profile):
        new_conn = rps * profile.new_connections_per_request / LCU_NEW_CONN_PER_S
        processed = rps * 3600 * bytes_per_request / GB / per_gb
        day += max(new_conn, processed)
    return day * profile.open_days_per_month


def alb_lines(profile: Profile, book: PriceBook, azs: int) -> list[LineItem]:
    hours = profile.hours_per_month
    return [
        line("ALB hours", hours, book.price("elb.alb.hour")),
        line("ALB LCU-hours (peak-shaped traffic)", lcu_hours(profile), book.price("elb.alb.lcu_hour")),
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
