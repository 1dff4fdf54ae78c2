"""The lines the templates deploy beside the compute: X-Ray, log storage, EMF metrics, ECR,
point-in-time recovery, and the optional WAF — each recomputed by hand."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from compare.cost import fargate, lambda_, shared_costs
from compare.cost.deployed import EMF_ABUSE_ONLY_METRICS, EMF_METRICS, fargate_settings, lambda_settings
from compare.cost.ec2 import estimate as ec2_estimate
from compare.cost.items import LineItem
from compare.cost.observability import xray_traces_per_open_day
from compare.cost.prices import PriceBook
from tests.cost.conftest import by_name, profile

ROOT = Path(__file__).resolve().parents[2]
ALL_DAY = {"schedule": {"open_from": 0, "open_until": 24, "peaks": [], "peak_weight": 1.0}}


def usd(items: list[LineItem], prefix: str) -> float:
    return sum(i.usd for i in by_name(items, prefix))


def test_xray_default_sampling_with_poisson_seconds() -> None:
    # 1 req/s all day: P(a second has a request) = 1 − e⁻¹, plus 5 % of the rest of the requests
    p = profile({**ALL_DAY, "monthly_requests": 86_400 * 730 / 24})
    per_second = (1 - math.exp(-1)) + 0.05 * (1 - (1 - math.exp(-1)))
    assert xray_traces_per_open_day(p) == pytest.approx(86_400 * per_second)


def test_xray_is_a_lambda_line_only_when_tracing_is_on(book: PriceBook) -> None:
    p = profile({**ALL_DAY, "monthly_requests": 86_400 * 730 / 24, "lambda": {"xray": True}})
    traces = 86_400 * ((1 - math.exp(-1)) + 0.05 * math.exp(-1)) * 730 / 24
    assert usd(lambda_.estimate(p, book).items, "X-Ray") == pytest.approx(traces * 5e-6)
    assert usd(lambda_.estimate(profile(), book).items, "X-Ray") == 0.0
    assert lambda_settings()["xray"] is True  # what the Lambda deploy turns on


def test_log_storage_holds_the_retention_days(book: PriceBook) -> None:
    # 3 M requests × 500 B a month, held 14 of 30.4167 days, $0.03/GB-month
    p = profile({"lambda": {"log_bytes_per_request": 500}})
    held_gb = 3e6 * 500 / 2**30 / (730 / 24) * 14
    assert usd(lambda_.estimate(p, book).items, "Log group storage") == pytest.approx(held_gb * 0.03)
    assert lambda_settings()["log_retention_days"] == 14
    assert fargate_settings()["log_retention_days"] == 14


def test_emf_metrics_are_billed_for_the_open_hours(book: PriceBook) -> None:
    # 3 metrics × (12 of 24 hours open) × $0.30
    p = profile({"fargate": {"emf_metrics": True}})
    assert usd(fargate.estimate(p, book).items, "CloudWatch custom metrics") == pytest.approx(3 * 0.5 * 0.30)


def test_the_emf_metric_list_matches_what_the_code_emits() -> None:
    source = (ROOT / "shared" / "cafe" / "observability.py").read_text(encoding="utf-8")
    emitted = set(re.findall(r'\("([A-Za-z]+)", MetricUnit', source))
    assert emitted == set(EMF_METRICS) | set(EMF_ABUSE_ONLY_METRICS)


def test_ecr_keeps_the_lifecycle_rules_image_count(book: PriceBook) -> None:
    p = profile({"fargate": {"image_gb": 0.2}})
    assert fargate_settings()["images_kept"] == 10
    assert usd(fargate.estimate(p, book).items, "ECR image storage") == pytest.approx(10 * 0.2 * 0.10)


def test_point_in_time_recovery_is_a_shared_line(book: PriceBook) -> None:
    p = profile({"dynamodb": {"storage_gb": 3}})
    assert usd(shared_costs.items(p, book), "DynamoDB point-in-time recovery") == pytest.approx(3 * 0.20)


def test_waf_is_off_by_default_and_priced_on_an_alb_when_asked(book: PriceBook) -> None:
    assert usd(fargate.estimate(profile(), book).items, "WAF") == 0.0
    on = profile({"fargate": {"waf": True}})
    assert usd(fargate.estimate(on, book).items, "WAF") == pytest.approx(5.0 + 1.0 + 3e6 * 6e-7)
    # EC2 has an ALB (and so a WAF) only in scale-out mode
    assert usd(ec2_estimate(profile({"ec2": {"waf": True}}), book).items, "WAF") == 0.0
    with_alb = profile({"ec2": {"waf": True, "alb": True}})
    assert usd(ec2_estimate(with_alb, book).items, "WAF") == pytest.approx(5.0 + 1.0 + 3e6 * 6e-7)


def test_new_prices_say_they_are_not_from_the_reference_notes(book: PriceBook) -> None:
    for figure in (
        "xray.traces_recorded",
        "dynamodb.pitr",
        "cloudwatch.logs.storage",
        "ecr.storage",
        "waf.web_acl",
    ):
        price = book.price(figure)
        assert "not in reference.md" in price.label()
