"""Helpers for the cost-model tests: a profile builder with every knob the hand computations need."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from compare.cost.prices import PriceBook
from compare.cost.profile import Profile, parse

# The issue's example profile, verbatim.
ISSUE_PROFILE: dict[str, Any] = {
    "region": "us-east-1",
    "monthly_requests": 3000000,
    "hours_per_month": 730,
    "free_tier": False,
    "lambda": {"memory_mb": 512, "arch": "arm64", "avg_billed_ms": 120, "api": "rest"},
    "fargate": {"vcpu": 0.25, "memory_gb": 0.5, "tasks": 2, "arch": "arm64", "spot": False, "alb": True},
    "ec2": {"instance_type": "t4g.small", "count": 1, "pricing": "on-demand", "ebs_gb": 8, "alb": False},
}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def quiet(over: dict[str, Any] | None = None) -> dict[str, Any]:
    """The issue profile with the side lines switched off (no INIT, no API, no logs, no X-Ray,
    no custom metrics, no image storage), so a test can check one line at a time."""
    base = merge(
        ISSUE_PROFILE,
        {
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


def profile(over: dict[str, Any] | None = None) -> Profile:
    return parse(quiet(over))


@pytest.fixture
def book() -> PriceBook:
    return PriceBook.load("us-east-1")


def by_name(items: list[Any], prefix: str) -> list[Any]:
    return [i for i in items if i.name.startswith(prefix)]
