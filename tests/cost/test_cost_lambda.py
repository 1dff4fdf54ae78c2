"""Lambda line items, computed by hand from the snapshot's us-east-1 list prices."""

from __future__ import annotations

import pytest

from compare.cost import lambda_
from compare.cost.items import tiered_lines, total
from compare.cost.prices import PriceBook
from tests.cost.conftest import by_name, profile


def test_issue_example_arm64_duration_and_requests(book: PriceBook) -> None:
    # 3 M requests × 0.120 s × 0.5 GB = 180,000 GB-s; × $0.0000133334 = $2.400012
    # requests: 3,000,000 × $0.20 / 1 M = $0.60   → total $3.000012
    cost = lambda_.estimate(profile(), book)
    (duration,) = by_name(cost.items, "Lambda duration arm64")
    assert duration.quantity == pytest.approx(180_000)
    assert duration.unit_usd == 0.0000133334
    assert duration.usd == pytest.approx(2.400012)
    (requests,) = by_name(cost.items, "Lambda requests")
    assert requests.usd == pytest.approx(0.60)
    assert cost.monthly_usd == pytest.approx(3.000012)


def test_x86_costs_more_per_gb_second(book: PriceBook) -> None:
    # 180,000 GB-s × $0.0000166667 = $3.000006, + $0.60 requests
    cost = lambda_.estimate(profile({"lambda": {"arch": "x86_64"}}), book)
    assert cost.monthly_usd == pytest.approx(3.600006)


def test_init_duration_is_billed(book: PriceBook) -> None:
    # 1 % of 3 M = 30,000 cold starts × 0.3 s × 0.5 GB = 4,500 GB-s × $0.0000133334 = $0.0600003
    cost = lambda_.estimate(profile({"lambda": {"cold_start_fraction": 0.01, "init_ms": 300}}), book)
    (init,) = [i for i in cost.items if "INIT" in i.name]
    assert init.quantity == pytest.approx(4_500)
    assert init.usd == pytest.approx(0.0600003)


@pytest.mark.parametrize(("api", "usd"), [("rest", 10.50), ("http", 3.00), ("url", 0.0), ("none", 0.0)])
def test_api_front_door(book: PriceBook, api: str, usd: float) -> None:
    # REST: 3 M × $3.50/M = $10.50; HTTP API: 3 M × $1.00/M = $3.00; function URL: no charge
    cost = lambda_.estimate(profile({"lambda": {"api": api}}), book)
    api_lines = by_name(cost.items, "API Gateway")
    assert total(api_lines) == pytest.approx(usd)
    assert cost.monthly_usd == pytest.approx(3.000012 + usd)


def test_rest_api_tier_boundary(book: PriceBook) -> None:
    # 400 M requests: first 333 M × $3.50/M = $1,165.50; next 67 M × $2.80/M = $187.60 → $1,353.10
    cost = lambda_.estimate(profile({"monthly_requests": 400_000_000, "lambda": {"api": "rest"}}), book)
    api_lines = by_name(cost.items, "API Gateway")
    assert [round(i.quantity) for i in api_lines] == [333_000_000, 67_000_000]
    assert total(api_lines) == pytest.approx(1353.10)


def test_duration_tier_boundary(book: PriceBook) -> None:
    # 850 M requests × 1 s × 10 GB = 8.5 B GB-s on arm64:
    # first 7.5 B × $0.0000133334 = $100,000.50; next 1 B × $0.0000120001 = $12,000.10 → $112,000.60
    p = profile({"monthly_requests": 850_000_000, "lambda": {"avg_billed_ms": 1000, "memory_mb": 10240}})
    lines = by_name(lambda_.estimate(p, book).items, "Lambda duration")
    assert [i.quantity for i in lines] == pytest.approx([7.5e9, 1e9])
    assert total(lines) == pytest.approx(112_000.60)


def test_parts_fill_tiers_in_order(book: PriceBook) -> None:
    # x86 tiers: 6 B at the first price. Part a (5 B) fits; part b (3 B) gets 1 B + 2 B.
    lines = tiered_lines("d", [(" a", 5e9), (" b", 3e9)], book.tiered("lambda.duration.x86_64"))
    assert [(i.name.split(" (")[0], i.quantity, i.unit_usd) for i in lines] == [
        ("d a", 5e9, 0.0000166667),
        ("d b", 1e9, 0.0000166667),
        ("d b", 2e9, 0.000015),
    ]


def test_free_tier_covers_small_workload(book: PriceBook) -> None:
    # 180,000 GB-s < 400,000 free → duration nets to $0; requests (3 M − 1 M) × $0.20/M = $0.40
    cost = lambda_.estimate(profile({"free_tier": True}), book)
    assert cost.monthly_usd == pytest.approx(0.40)


def test_free_tier_partly(book: PriceBook) -> None:
    # 10 M × 0.12 s × 0.5 GB = 600,000 GB-s; 200,000 billed × $0.0000133334 = $2.66668
    # requests (10 M − 1 M) × $0.20/M = $1.80 → $4.46668 (free tier off: 8.00004 + 2.00 = $10.00004)
    on = lambda_.estimate(profile({"monthly_requests": 10_000_000, "free_tier": True}), book)
    off = lambda_.estimate(profile({"monthly_requests": 10_000_000, "free_tier": False}), book)
    assert on.monthly_usd == pytest.approx(4.46668)
    assert off.monthly_usd == pytest.approx(10.00004)


def test_log_ingestion(book: PriceBook) -> None:
    # 1 M requests × 1,073.741824 B = 2^30 B = 1 GB × $0.50 = $0.50; with the free tier's 5 GB it is $0
    over = {"monthly_requests": 1_000_000, "lambda": {"log_bytes_per_request": 1073.741824}}
    (logs,) = by_name(lambda_.estimate(profile(over), book).items, "CloudWatch Logs")
    assert logs.quantity == pytest.approx(1.0)
    assert logs.usd == pytest.approx(0.50)
    free = lambda_.estimate(profile({**over, "free_tier": True}), book)
    assert total(by_name(free.items, "CloudWatch Logs")) == pytest.approx(0.0)
