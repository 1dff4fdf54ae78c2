"""Break-even solver, recommendation under an SLO, and the Lambda memory sweep."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from compare.cost import breakeven, lambda_
from compare.cost.prices import PriceBook
from compare.cost.profile import parse
from compare.cost.recommend import recommend
from compare.cost.sweep import modeled_duration_ms, sweep
from tests.cost.conftest import ISSUE_PROFILE, profile


def _crossings(a, b, lo=10.0, hi=1e8, n=40):  # type: ignore[no-untyped-def]
    grid = np.logspace(math.log10(lo), math.log10(hi), n)
    return breakeven.crossovers(a, b, grid, np.array([a(x) for x in grid]), np.array([b(x) for x in grid]))


def test_linear_crossover_is_solved_exactly() -> None:
    # $0.01 per order vs a flat $50: they cross at 5,000 orders
    (x,) = _crossings(lambda o: 0.01 * o, lambda o: 50.0)
    assert x["monthly_orders"] == pytest.approx(5000, rel=1e-6)
    assert x["kind"] == "crossing"
    assert x["cheaper_below"] == "a"


def test_piecewise_linear_crossover() -> None:
    # a: $20 flat up to 1,000 orders then +$0.02 each; b: $0.03 per order.
    # Below 1,000: 0.03 x = 20 → x = 666.67; above, 20 + 0.02 (x − 1000) = 0.03 x → x = 0 (no second root)
    (x,) = _crossings(lambda o: 20 + 0.02 * max(0.0, o - 1000), lambda o: 0.03 * o)
    assert x["monthly_orders"] == pytest.approx(666.667, rel=1e-5)
    assert x["cheaper_below"] == "b"


def test_step_is_reported_as_a_step() -> None:
    # a jumps from $0 to $100 at 3,000 orders; b is $50 flat: the "crossover" is the step itself
    (x,) = _crossings(lambda o: 0.0 if o < 3000 else 100.0, lambda o: 50.0)
    assert x["monthly_orders"] == pytest.approx(3000, rel=1e-6)
    assert x["kind"].startswith("step")


def test_lambda_vs_ec2_breakeven_by_hand() -> None:
    # Per request, Lambda (REST, defaults: 1 % cold × 300 ms INIT, 500 B logs kept 14 days) costs
    #   2e-7 + 0.12 × 0.5 × 1.33334e-5 + 0.01 × 0.3 × 0.5 × 1.33334e-5 + 3.5e-6 + 500/2^30 × 0.5
    #   + 500/2^30 × 14/30.4167 days held × $0.03/GB-month
    # and, flat, its 3 EMF metrics while open (12 of 24 h): 3 × 0.5 × $0.30 = $0.45 (X-Ray off here:
    # its sampling is not linear in the volume)
    # EC2 t4g.small: $12.264 + $0.64 + $3.65 = $16.554 flat, + 200 B logs/request × $0.5/GB
    # (1 instance is enough at this volume; CPU within the credit baseline).
    # Requests are linear in orders: the screens' fixed part plus so many per order (the census).
    logs_held = 500 / 2**30 * 14 / (730 / 24) * 0.03
    lam = (
        2e-7
        + 0.12 * 0.5 * 1.33334e-5
        + 0.01 * 0.3 * 0.5 * 1.33334e-5
        + 3.5e-6
        + 500 / 2**30 * 0.5
        + logs_held
    )
    e = 200 / 2**30 * 0.5
    no_xray = {**ISSUE_PROFILE, "lambda": {**ISSUE_PROFILE["lambda"], "xray": False}}
    cafe = parse(no_xray)
    screens = cafe.with_orders(0).monthly_requests
    per_order = cafe.with_orders(1).monthly_requests - screens
    requests = (16.554 - 0.45) / (lam - e)
    orders = (requests - screens) / per_order
    result = breakeven.solve(cafe, PriceBook.load("us-east-1"))
    keys = {"lambda rest polling", "ec2 on-demand polling"}
    (pair,) = [p for p in result["pairs"] if {p["a"], p["b"]} == keys]
    first = pair["crossovers"][0]
    assert first["monthly_orders"] == pytest.approx(orders, rel=1e-6)
    assert first["monthly_requests"] == pytest.approx(requests, rel=1e-6)
    assert first["cheaper_below"] == "lambda rest polling"
    said = "lambda rest polling is cheaper than ec2 on-demand polling"
    assert any(h.startswith(said) for h in result["headline"])


def test_breakeven_curves_rise_with_volume() -> None:
    result = breakeven.solve(parse(ISSUE_PROFILE), PriceBook.load("us-east-1"), points=30)
    for key, ys in result["curves"].items():
        assert all(b >= a - 1e-9 for a, b in itertools.pairwise(ys)), key
    assert result["curves"]["ec2 spot polling"][0] < result["curves"]["ec2 on-demand polling"][0]


COSTS = {"lambda": 3.0, "fargate": 46.0, "ec2": 16.8}
LABELS = {"lambda": "measured on AWS", "fargate": "measured here", "ec2": "measured here"}


def test_recommendation_cheapest_meeting_slo() -> None:
    rec = recommend(COSTS, {"lambda": 180, "fargate": 40, "ec2": 35}, 200, LABELS)
    assert rec["runtime"] == "lambda"
    assert "measured on AWS" in rec["reason"] and rec["reason"].count(".") <= 3


def test_recommendation_skips_cheaper_runtime_over_slo() -> None:
    rec = recommend(COSTS, {"lambda": 450, "fargate": 40, "ec2": 35}, 200, LABELS)
    assert rec["runtime"] == "ec2"
    assert "Lambda" in rec["reason"] and "450" in rec["reason"]


def test_recommendation_without_latency_input_is_not_assumed_fast() -> None:
    rec = recommend(COSTS, {"fargate": 40}, 200, LABELS)
    assert rec["runtime"] == "fargate"
    assert rec["unverified"] == ["lambda", "ec2"]


def test_recommendation_none_meets() -> None:
    rec = recommend(COSTS, {"lambda": 900, "fargate": 400, "ec2": 300}, 100, LABELS)
    assert rec["runtime"] is None and rec["meets_slo"] is False


def test_recommendation_without_slo_is_cost_only() -> None:
    rec = recommend(COSTS, {}, None, {})
    assert rec["runtime"] == "lambda" and "no p99 SLO" in rec["reason"]


@pytest.mark.parametrize(
    ("mb", "fraction", "expected"),
    [
        (256, 1.0, 240),  # half the CPU share → twice as long
        (1024, 1.0, 60),
        (1769, 1.0, 35),  # 120 × 512/1769 = 34.7 → billed 35 ms
        (4096, 1.0, 35),  # no gain above one vCPU
        (256, 0.5, 180),  # half of the time is waiting: 60 × 2 + 60
    ],
)
def test_memory_sweep_duration_model(mb: int, fraction: float, expected: int) -> None:
    assert modeled_duration_ms(120, 512, mb, fraction) == expected


def test_memory_sweep_costs(book: PriceBook) -> None:
    # With a fully CPU-bound handler GB-s are constant below 1,769 MB, so cost is flat there,
    # then rises: 4,096 MB × 35 ms = 4 GB × 0.035 s × 3 M = 420,000 GB-s × $0.0000133334 = $5.60 + $0.60
    result = sweep(profile(), book)
    rows = {r["memory_mb"]: r for r in result["rows"]}
    assert rows[512]["monthly_usd"] == pytest.approx(3.0, abs=0.01)
    assert rows[4096]["monthly_usd"] == pytest.approx(420_000 * 0.0000133334 + 0.60, abs=1e-4)
    assert result["label"] == "modeled" and "1769" in result["assumption"]
    assert lambda_.estimate(profile(), book).monthly_usd == pytest.approx(rows[512]["monthly_usd"], abs=1e-4)
