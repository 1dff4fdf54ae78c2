"""Fargate and EC2 line items, sizing, pricing options and the CPU-credit check, by hand."""

from __future__ import annotations

import pytest

from compare.cost import ec2, fargate
from compare.cost.prices import PriceBook
from compare.cost.profile import ProfileError, parse
from compare.cost.sizing import peak_rps
from tests.cost.conftest import by_name, profile, quiet


def usd(items: list, prefix: str) -> float:
    return sum(i.usd for i in by_name(items, prefix))


def test_fargate_issue_example(book: PriceBook) -> None:
    # 2 tasks × 730 h = 1,460 task-h
    # vCPU: 1,460 × 0.25 = 365 vCPU-h × $0.03238 = $11.8187
    # memory: 1,460 × 0.5 = 730 GB-h × $0.00356 = $2.5988
    # task public IPv4: 1,460 × $0.005 = $7.30
    # ALB: 730 h × $0.0225 = $16.425; its 2 public IPv4: 1,460 × $0.005 = $7.30
    # LCU: new connections dominate: 3 M requests / (25 conn/s × 3,600 s) = 33.333 LCU-h × $0.008 = $0.26667
    cost = fargate.estimate(profile(), book)
    assert usd(cost.items, "Fargate vCPU") == pytest.approx(11.8187)
    assert usd(cost.items, "Fargate memory") == pytest.approx(2.5988)
    assert usd(cost.items, "Fargate task public IPv4") == pytest.approx(7.30)
    assert usd(cost.items, "ALB hours") == pytest.approx(16.425)
    assert usd(cost.items, "ALB public IPv4") == pytest.approx(7.30)
    assert usd(cost.items, "ALB LCU") == pytest.approx(3e6 / 90_000 * 0.008)
    assert cost.monthly_usd == pytest.approx(11.8187 + 2.5988 + 7.30 + 16.425 + 7.30 + 0.266667, abs=1e-4)


# A task without the ALB (the lab's what-if: staff calls over plain HTTP), to price the task alone.
PLAIN_HTTP = {"alb": False, "staff_over_http": True}


def test_fargate_spot_is_x86_and_discounted(book: PriceBook) -> None:
    # x86 on Spot (typical 70 % off): 365 vCPU-h × $0.04048 × 0.3 = $4.43256;
    # 730 GB-h × $0.004445 × 0.3 = $0.973455
    cost = fargate.estimate(profile({"fargate": {"arch": "x86_64", "spot": True, **PLAIN_HTTP}}), book)
    assert usd(cost.items, "Fargate vCPU") == pytest.approx(4.43256)
    assert usd(cost.items, "Fargate memory") == pytest.approx(0.973455)
    assert any("Spot" in w for w in cost.warnings)
    assert "modeled" in by_name(cost.items, "Fargate vCPU")[0].price_basis


def test_fargate_spot_on_arm64_is_the_arm_price_discounted(book: PriceBook) -> None:
    # the ECS API reference (CapacityProviderStrategyItem) states FARGATE_SPOT runs Linux ARM64 on
    # platform version 1.4.0+: 365 vCPU-h × $0.03238 × 0.3 = $3.54561; 730 GB-h × $0.00356 × 0.3 = $0.77964
    cost = fargate.estimate(profile({"fargate": {"arch": "arm64", "spot": True, **PLAIN_HTTP}}), book)
    assert usd(cost.items, "Fargate vCPU arm64") == pytest.approx(3.54561)
    assert usd(cost.items, "Fargate memory arm64") == pytest.approx(0.77964)
    assert fargate.variant(profile().fargate, "spot").arch == "arm64"


def test_fargate_spot_and_a_savings_plan_do_not_combine() -> None:
    with pytest.raises(ProfileError, match="Spot is already discounted"):
        parse(quiet({"fargate": {"spot": True, "pricing": "savings-plan-1y"}}))


def test_fargate_scheduled_scale_in(book: PriceBook) -> None:
    # open 7–19 = 12 h on each of 730/24 = 30.4167 days → 2 tasks × 365 h = 730 task-h (half of 24×7)
    cost = fargate.estimate(profile({"fargate": {"scale_in_outside_hours": True}}), book)
    assert cost.sizing["task_hours"] == pytest.approx(730)
    assert usd(cost.items, "Fargate vCPU") == pytest.approx(730 * 0.25 * 0.03238)


def test_fargate_tasks_sized_from_cpu(book: PriceBook) -> None:
    # 3 M/month over 30.4167 days = 98,630 a day; the peak hour holds 3/16 → 5.137 req/s
    # × 100 ms CPU = 0.5137 vCPU; at ≤ 60 % of 0.25 vCPU per task → 3.42 → 4 tasks
    p = profile({"fargate": {"tasks": None, "cpu_ms_per_request": 100}})
    assert peak_rps(p) == pytest.approx(3e6 / (730 / 24) * 3 / 16 / 3600)
    cost = fargate.estimate(p, book)
    assert cost.sizing["tasks_peak"] == 4
    assert cost.sizing["task_hours"] == pytest.approx(4 * 730)


def test_undersized_explicit_count_warns(book: PriceBook) -> None:
    cost = fargate.estimate(profile({"fargate": {"tasks": 1, "cpu_ms_per_request": 100}}), book)
    assert cost.sizing["task_hours"] == pytest.approx(730)  # what the profile asked for is what is priced
    assert any("above the 60% target" in w for w in cost.warnings)


def test_ec2_issue_example(book: PriceBook) -> None:
    # t4g.small: 730 h × $0.0168 = $12.264; EBS 8 GB × $0.08 = $0.64; public IPv4 730 × $0.005 = $3.65
    cost = ec2.estimate(profile(), book)
    assert usd(cost.items, "EC2 t4g.small") == pytest.approx(12.264)
    assert usd(cost.items, "EBS gp3") == pytest.approx(0.64)
    assert usd(cost.items, "EC2 public IPv4") == pytest.approx(3.65)
    assert cost.monthly_usd == pytest.approx(16.554)


@pytest.mark.parametrize(
    ("pricing", "factor"),
    [
        ("on-demand", 1.0),
        ("savings-plan-1y", 0.73),
        ("savings-plan-3y", 0.48),
        ("reserved-1y", 0.64),
        ("reserved-3y", 0.43),
        ("spot", 0.30),
    ],
)
def test_ec2_pricing_options(book: PriceBook, pricing: str, factor: float) -> None:
    # e.g. 1-year Compute Savings Plan (typical 27 % off): 730 h × $0.0168 × 0.73 = $8.95272
    cost = ec2.estimate(profile({"ec2": {"pricing": pricing}}), book)
    assert usd(cost.items, "EC2 t4g.small") == pytest.approx(730 * 0.0168 * factor)
    assert usd(cost.items, "EBS gp3") == pytest.approx(0.64)  # storage is not discounted


FLAT_DAY = {"open_from": 0, "open_until": 24, "peak_weight": 1.0}


def test_cpu_credit_surplus_is_priced(book: PriceBook) -> None:
    # 30 days (720 h), 3 M requests → 100,000 a day, flat over 24 h (1.157 req/s)
    # used: 100,000 × 0.5 s CPU / 3,600 = 13.889 vCPU-h a day; earned: 2 vCPU × 20 % × 24 h = 9.6
    # surplus 4.2889 × 30 days = 128.667 vCPU-h × $0.04 (t4g unlimited) = $5.14667
    over = {
        "hours_per_month": 720,
        "schedule": FLAT_DAY,
        "ec2": {"cpu_ms_per_request": 500, "idle_cpu_pct": 0},
    }
    cost = ec2.estimate(profile(over), book)
    (credits,) = by_name(cost.items, "t4g unlimited-mode surplus")
    assert credits.quantity == pytest.approx((100_000 * 0.5 / 3600 - 9.6) * 30)
    assert credits.usd == pytest.approx(5.146667, rel=1e-5)
    assert any("baseline" in w for w in cost.warnings)


def test_cpu_credit_standard_mode_warns_instead(book: PriceBook) -> None:
    over = {
        "hours_per_month": 720,
        "schedule": FLAT_DAY,
        "ec2": {"cpu_ms_per_request": 500, "idle_cpu_pct": 0, "unlimited": False},
    }
    cost = ec2.estimate(profile(over), book)
    assert not by_name(cost.items, "t4g unlimited")
    assert any("throttled to 20 %" in w for w in cost.warnings)


def test_cpu_credit_within_baseline(book: PriceBook) -> None:
    # 5 ms × 98,630 a day / 3,600 = 0.137 vCPU-h + idle 1 % × 2 vCPU × 24 h = 0.48 → far below 9.6 earned
    cost = ec2.estimate(profile({"ec2": {"cpu_ms_per_request": 5}}), book)
    credits = cost.sizing["cpu_credits"]
    assert credits["vcpu_hours_earned_per_open_day"] == pytest.approx(9.6)
    assert credits["surplus_vcpu_hours_per_month"] == 0
    assert not by_name(cost.items, "t4g unlimited")


def test_non_burstable_has_no_credit_check(book: PriceBook) -> None:
    # m7g.medium: 730 h × $0.0408 = $29.784
    cost = ec2.estimate(profile({"ec2": {"instance_type": "m7g.medium", "cpu_ms_per_request": 500}}), book)
    assert "cpu_credits" not in cost.sizing
    assert usd(cost.items, "EC2 m7g.medium") == pytest.approx(29.784)


def test_ec2_target_tracking_counts_per_hour(book: PriceBook) -> None:
    # Peak hours need 2 instances, others 1; outside 7–19 none:
    # 3 M/month, peak 5.137 req/s × 200 ms = 1.027 vCPU / (2 vCPU × 0.6) = 0.86 → 1; so use 400 ms:
    # peak 2.055 vCPU → 2 instances in 8–9 and 12–13; off-peak 1.712 req/s × 0.4 = 0.685 → 1
    # instance-hours = 30.4167 days × (2 + 2 + 10 × 1) = 425.83
    p = profile({"ec2": {"count": None, "scaling": "target-tracking", "cpu_ms_per_request": 400}})
    cost = ec2.estimate(p, book)
    assert cost.sizing["instance_hours"] == pytest.approx(730 / 24 * 14, rel=1e-6)
