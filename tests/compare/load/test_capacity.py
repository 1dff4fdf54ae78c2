"""Capacity search: step up until the SLO breaks; the last passing step is sustainable."""

from __future__ import annotations

import asyncio
from typing import Any

from compare.load.capacity import Slo, search
from compare.results import Capacity, Window
from tests.compare.sample import LATENCY, a_window


def _step(rate: float, p99: float, errors: dict[str, int] | None = None, delivered: float = 1.0) -> Window:
    errors = errors or {}
    return a_window(
        target_rate_rps=rate,
        offered_rps=rate,
        throughput_rps=rate * delivered,
        requests=100,
        error_rate=sum(errors.values()) / 100,
        errors_by_status=errors,
        latency_ms=LATENCY | {"p99": p99},
    )


def _search(table: dict[float, Window]) -> Capacity:
    async def run_step(index: int, rate: float) -> Window:
        return table[rate]

    return asyncio.run(search(sorted(table), run_step, Slo(p99_ms=100)))


def test_stops_at_the_first_p99_over_the_slo() -> None:
    result = _search({10: _step(10, 5), 20: _step(20, 50), 40: _step(40, 150), 80: _step(80, 5)})
    assert result.sustainable_rps == 20 and result.limit_found
    assert [s.target_rate_rps for s in result.steps] == [10, 20, 40]  # 80 never run
    assert "p99" in result.stopped and result.sustainable_text() == "20"


def test_errors_or_short_delivery_also_stop_it() -> None:
    assert _search({10: _step(10, 5), 20: _step(20, 5, {"menu:429": 3})}).sustainable_rps == 10
    assert _search({10: _step(10, 5), 20: _step(20, 5, delivered=0.5)}).sustainable_rps == 10
    assert _search({10: _step(10, 500)}).sustainable_rps is None


def test_a_ladder_that_never_breaks_says_so() -> None:
    result = _search({10: _step(10, 5), 20: _step(20, 6)})
    assert result.sustainable_rps == 20 and not result.limit_found
    assert result.sustainable_text() == "≥ 20"


def _hiccup_at_20() -> tuple[list[tuple[int, float]], Any]:
    calls: list[tuple[int, float]] = []

    async def run_step(index: int, rate: float) -> Window:
        calls.append((index, rate))
        hiccup = rate == 20 and len([c for c in calls if c[1] == 20]) == 1
        return _step(rate, 500 if hiccup else 5)

    return calls, run_step


def test_a_single_hiccup_is_retried_before_it_stops_the_search() -> None:
    calls, run_step = _hiccup_at_20()
    result = asyncio.run(search([10, 20, 40], run_step, Slo(p99_ms=100)))
    assert result.sustainable_rps == 40 and not result.limit_found
    assert [rate for _, rate in calls] == [10, 20, 20, 40]
    assert result.steps[1].first_attempt.verdict.ok is False
    _, run_once = _hiccup_at_20()
    no_retry = asyncio.run(search([10, 20, 40], run_once, Slo(p99_ms=100), confirm=False))
    assert no_retry.sustainable_rps == 10


def test_a_failing_step_names_what_limited_it() -> None:
    slo = Slo(p99_ms=100)
    assert slo.verdict(_step(400, 300)).cause == "runtime"
    busy = slo.verdict(_step(400, 20, {"503": 4}))
    assert busy.cause == "store" and "store" in busy.reason
    late = a_window(
        target_rate_rps=400,
        offered_rps=400,
        throughput_rps=400,
        requests=100,
        latency_ms=LATENCY | {"p99": 300.0},
        send_lag_ms=LATENCY | {"p99": 80.0},
    )
    verdict = slo.verdict(late)
    assert verdict.cause == "generator" and "load generator" in verdict.reason
    assert slo.verdict(_step(100, 20)).ok
