"""Percentile maths against distributions whose quantiles are known exactly."""

from __future__ import annotations

import math
import random

import pytest

from compare.load.stats import Recorder, new_histogram, percentile_summary


def test_uniform_distribution_percentiles() -> None:
    histogram = new_histogram()
    for value in range(1, 100_001):  # 1 µs … 100 ms, each once
        histogram.record_value(value)
    summary = percentile_summary(histogram)
    # HDR with 3 significant figures: within 0.1 % of the exact quantile.
    for label, exact_ms in (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9)):
        assert summary.get(label) == pytest.approx(exact_ms, rel=1e-3)
    assert summary.max == pytest.approx(100.0, rel=1e-3)
    assert summary.mean == pytest.approx(50.0, rel=1e-3)


def test_exponential_distribution_percentiles() -> None:
    rng = random.Random(7)
    mean_us = 2_000.0
    histogram = new_histogram()
    for _ in range(200_000):
        histogram.record_value(max(1, round(rng.expovariate(1 / mean_us))))
    summary = percentile_summary(histogram)
    for label, p in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        exact_ms = -math.log(1 - p) * mean_us / 1000
        assert summary.get(label) == pytest.approx(exact_ms, rel=0.03), label


def test_bimodal_tail_is_not_averaged_away() -> None:
    histogram = new_histogram()
    for _ in range(985):
        histogram.record_value(1_000)  # 1 ms
    for _ in range(15):
        histogram.record_value(500_000)  # 500 ms: 1.5 % of requests
    summary = percentile_summary(histogram)
    assert summary.p50 == pytest.approx(1.0, rel=1e-3)
    assert summary.p90 == pytest.approx(1.0, rel=1e-3)
    assert summary.p99 == pytest.approx(500.0, rel=1e-3)


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
    assert summary["latency_ms"].max == pytest.approx(4.0, rel=1e-3)
    assert summary["by_operation"]["menu"].requests == 2


def test_empty_summary_is_zero() -> None:
    assert percentile_summary(new_histogram()).p99 == 0.0


def test_rounds_absorbed_into_one_recorder_summarise_as_one_window() -> None:
    # Two rounds of one target (each with its own warm-up) absorbed into one recorder must
    # summarise exactly like one recorder given just the measured samples of both.
    rng = random.Random(11)
    samples = [(i * 0.01, rng.expovariate(1 / 0.004), "200" if i % 17 else "500") for i in range(400)]
    first, second, expected = Recorder(measure_from=0.5), Recorder(measure_from=2.5), Recorder()
    for intended, latency, status in samples:
        round_ = first if intended < 2.0 else second
        round_.record("op", intended, intended + latency, status, status == "200")
        if 0.5 <= intended < 2.0 or intended >= 2.5:
            expected.record("op", intended, intended + latency, status, status == "200")
    first.absorb(second)
    assert first.warmup_count == 50 + 50
    merged, plain = first.summary(window_seconds=3.0), expected.summary(window_seconds=3.0)
    assert merged == plain | {"warmup_excluded": 100}
    assert merged["errors"] > 0 and merged["requests"] == 300
    assert first.first_intended == 0.5 and first.last_done == expected.last_done
