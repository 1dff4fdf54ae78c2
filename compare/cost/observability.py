"""What observability and the surrounding services cost where the templates deploy them: X-Ray
traces (Lambda), CloudWatch Logs storage under the log groups' retention, EMF custom metrics,
ECR image storage (Fargate), and an optional WAF web ACL in front of an ALB."""

from __future__ import annotations

import math

from compare.cost.deployed import EMF_METRICS
from compare.cost.items import LineItem, line
from compare.cost.network import GB
from compare.cost.prices import PriceBook
from compare.cost.profile import Profile
from compare.cost.sizing import hourly_rps

#: X-Ray's default sampling rule: the first request each second, then 5 % of the others.
XRAY_RESERVOIR_PER_S = 1
XRAY_RATE = 0.05


def free_tier(profile: Profile, book: PriceBook, name: str, figure: str, used: float) -> list[LineItem]:
    """The always-free allowance of ``figure`` as a negative line, when the profile asks for it."""
    if not profile.free_tier:
        return []
    return [line(name, -min(used, book.free_tier(figure)), book.price(figure))]


def xray_traces_per_open_day(profile: Profile) -> float:
    """Expected traces a day under the default rule, with Poisson arrivals within each second:
    P(at least one request) for the reservoir, plus 5 % of the expected remainder."""
    total = 0.0
    for rps in hourly_rps(profile):
        first = 1.0 - math.exp(-rps)
        total += 3600.0 * (first + XRAY_RATE * (rps - first))
    return total


def xray_lines(profile: Profile, book: PriceBook) -> list[LineItem]:
    price = book.price("xray.traces_recorded")
    traces = xray_traces_per_open_day(profile) * profile.open_days_per_month
    items = [
        line("X-Ray traces recorded (default sampling: 1/s + 5 %)", traces, price, "modeled from the profile")
    ]
    return items + free_tier(
        profile, book, "X-Ray free tier (100,000 traces)", "xray.traces_recorded", traces
    )


def log_storage_line(
    profile: Profile, book: PriceBook, bytes_per_request: float, retention_days: int, what: str
) -> LineItem:
    """Steady state: the log group holds ``retention_days`` of ingestion (modeled uncompressed)."""
    daily_gb = profile.monthly_requests * bytes_per_request / GB / profile.calendar_days
    held = daily_gb * min(retention_days, profile.calendar_days)
    return line(
        f"Log group storage in CloudWatch ({what}, {retention_days} days' retention, uncompressed)",
        held,
        book.price("cloudwatch.logs.storage"),
    )


def emf_metric_lines(profile: Profile, book: PriceBook) -> list[LineItem]:
    price = book.price("cloudwatch.metrics.custom")
    # metrics are billed per hour they receive data: the café's open hours
    open_share = profile.open_days_per_month * profile.schedule.open_hours / profile.hours_per_month
    count = float(len(EMF_METRICS))
    items = [
        line(
            f"CloudWatch custom metrics from EMF ({', '.join(EMF_METRICS)}; open hours only)",
            count * min(1.0, open_share),
            price,
            "modeled: metrics × share of the month's hours the café is open",
        )
    ]
    used = items[0].quantity
    return items + free_tier(
        profile, book, "CloudWatch free tier (10 metrics)", "cloudwatch.metrics.custom", used
    )


def ecr_line(book: PriceBook, image_gb: float, images_kept: int) -> LineItem:
    return line(
        f"ECR image storage ({images_kept} images kept by the lifecycle rule × {image_gb:g} GB)",
        image_gb * images_kept,
        book.price("ecr.storage"),
        "profile image size × the template's lifecycle count",
    )


def waf_lines(profile: Profile, book: PriceBook) -> list[LineItem]:
    """A web ACL with one rate-based rule on the ALB, inspecting every request."""
    months = profile.hours_per_month / 730.0
    return [
        line("WAF web ACL on the ALB", months, book.price("waf.web_acl")),
        line("WAF rate-based rule", months, book.price("waf.rule")),
        line("WAF requests inspected", profile.monthly_requests, book.price("waf.requests")),
    ]
