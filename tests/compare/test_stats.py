"""Percentile maths against distributions whose quantiles are known exactly."""

from __future__ import annotations

import math
import random

import pytest

from compare.stats import Recorder, new_histogram, percentile_summary


def test_uniform_distribution_percentiles() -> None:
    histogram = new_histogram()
    for value in range(1, 100_001):  # 1 µs … 100 ms, each once
        histogram.record_value(value)
    summary = percentile_summary(histogram)
    # HDR with 3 significant figures: within 0.1 % of the exact quantile.
    for label, exact_ms in (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9)):
        assert summary[label] == pytest.approx(exact_ms, rel=1e-3)
    assert summary["max"] == pytest.approx(100.0, rel=1e-3)
    assert summary["mean"] == pytest.approx(50.0, rel=1e-3)


def test_exponential_distribution_percentiles() -> None:
    rng = random.Random(7)
    mean_us = 2_000.0
    histogram = new_histogram()
    for _ in range(200_000):
        histogram.record_value(max(1, round(rng.expovariate(1 / mean_us))))
    summary = percentile_summary(histogram)
    for label, p in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        exact_ms = -math.log(1 - p) * mean_us / 1000
        assert summary[label] == pytest.approx(exact_ms, rel=0.03), label


def test_bimodal_tail_is_not_averaged_away() -> None:
    histogram = new_histogram()
    for _ in range(985):
        histogram.record_value(1_000)  # 1 ms
    for _ in range(15):
        histogram.record_value(500_000)  # 500 ms: 1.5 % of requests
    summary = percentile_summary(histogram)
    assert summary["p50"] == pytest.approx(1.0, rel=1e-3)
    assert summary["p90"] == pytest.approx(1.0, rel=1e-3)
    assert summary["p99"] == pytest.approx(500.0, rel=1e-3)


def test_recorder_excludes_warmup_and_counts_errors() -> None:
    recorder = Recorder(measure_from=10.0)
    recorder.record("menu", intended=9.9, done=10.5, status="200", ok=True)  # warm-up
    recorder.record("menu", intended=10.0, done=10.002, status="200", ok=True)
    recorder.record("menu", intended=10.1, done=10.104, status="503", ok=False)
    recorder.record("place_order", intended=10.2, done=10.203, status="201", ok=True)
    summary = recorder.summary(window_seconds=1.0)
    assert summary["requests"] == 3
    assert summary["warmup_excluded"] == 1
    assert summary["errors"] == 1
    assert summary["errors_by_status"] == {"menu:503": 1}
    assert summary["statuses"] == {"200": 1, "201": 1, "503": 1}
    assert summary["throughput_rps"] == pytest.approx(3.0)
    assert summary["latency_ms"]["max"] == pytest.approx(4.0, rel=1e-3)
    assert summary["by_operation"]["menu"]["requests"] == 2


def test_empty_summary_is_zero() -> None:
    assert percentile_summary(new_histogram())["p99"] == 0.0
