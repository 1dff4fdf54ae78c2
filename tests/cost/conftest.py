"""Helpers for the cost-model tests: a profile builder with every knob the hand computations need."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compare.cost.prices import PriceBook
from compare.cost.profile import Profile, parse

# A café of 100 orders a day; its requests come from the census. A test that needs an exact
# request volume passes "monthly_requests" to ``profile``, a what-if applied with
# Profile.with_requests (a profile itself never types requests).
ISSUE_PROFILE: dict[str, Any] = {
    "region": "us-east-1",
    "orders_per_day": 100,
    # The hand computations price the pages polling (every request a line); push has its own tests.
    "mode": "polling",
    "hours_per_month": 730,
    "free_tier": False,
    "lambda": {"memory_mb": 512, "arch": "arm64", "avg_billed_ms": 120, "api": "rest"},
    "fargate": {"vcpu": 0.25, "memory_gb": 0.5, "tasks": 2, "arch": "arm64", "spot": False, "alb": True},
    # A lone instance on plain HTTP (the lab's AllowStaffOverHttp what-if): the hand computations price it.
    "ec2": {
        "instance_type": "t4g.small",
        "count": 1,
        "pricing": "on-demand",
        "ebs_gb": 8,
        "alb": False,
        "staff_over_http": True,
    },
}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


# The volume the hand computations are written for.
HAND_REQUESTS = 3_000_000


def quiet(over: dict[str, Any] | None = None) -> dict[str, Any]:
    """The issue profile with the side lines switched off (no INIT, no API, no logs, no X-Ray,
    no custom metrics, no image storage) and no screens (every request follows the schedule's
    shape), at 3 M requests a month unless the test says otherwise, so a test can check one line
    at a time by hand."""
    base = merge(
        ISSUE_PROFILE,
        {
            "monthly_requests": HAND_REQUESTS,
            "traffic": {"boards": 0, "barista_tablets": 0},
            "lambda": {
                "cold_start_fraction": 0,
                "api": "none",
                "log_bytes_per_request": 0,
                "xray": False,
                "emf_metrics": False,
            },
            "fargate": {"log_bytes_per_request": 0, "emf_metrics": False, "image_gb": 0},
            "ec2": {"log_bytes_per_request": 0},
        },
    )
    return merge(base, over or {})


def parse_what_if(raw: dict[str, Any]) -> Profile:
    """``parse`` for a test's profile, applying its ``monthly_requests`` what-if, if any."""
    raw = dict(raw)
    requests = raw.pop("monthly_requests", None)
    parsed = parse(raw)
    return parsed if requests is None else parsed.with_requests(requests)


def profile(over: dict[str, Any] | None = None) -> Profile:
    return parse_what_if(quiet(over))


@pytest.fixture
def book() -> PriceBook:
    return PriceBook.load("us-east-1")


def by_name(items: list[Any], prefix: str) -> list[Any]:
    return [i for i in items if i.name.startswith(prefix)]
