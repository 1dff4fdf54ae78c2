"""Latency accounting with HDR histograms.

Latencies are recorded in microseconds into `hdrh` histograms (3 significant figures, 1 µs to
10 minutes) so that percentiles are exact to the histogram's precision whatever the sample count,
and histograms from several operations can be merged without keeping every sample.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

from compare.results import OperationLatency, Percentiles

LOWEST_US = 1
HIGHEST_US = 600_000_000
SIGNIFICANT_FIGURES = 3
PERCENTILES: tuple[float, ...] = (50.0, 90.0, 99.0, 99.9)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)


def percentile_summary(histogram: HdrHistogram) -> Percentiles:
    """p50/p90/p99/p99.9/max/mean in milliseconds (zeros for an empty histogram)."""
    if histogram.get_total_count() == 0:
        return Percentiles(p50=0.0, p90=0.0, p99=0.0, p99_9=0.0, max=0.0, mean=0.0)
    p50, p90, p99, p99_9 = (histogram.get_value_at_percentile(p) / 1000.0 for p in PERCENTILES)
    return Percentiles(
        p50=p50,
        p90=p90,
        p99=p99,
        p99_9=p99_9,
        max=histogram.get_max_value() / 1000.0,
        mean=histogram.get_mean_value() / 1000.0,
    )


@dataclass
class Recorder:
    """Collects one measurement window: latencies per operation, outcomes by status.

    A sample whose intended send time falls before `measure_from` (warm-up) is counted in
    `warmup_count` only, so warm-up never reaches the percentiles or the throughput.
    """

    measure_from: float = 0.0
    histograms: dict[str, HdrHistogram] = field(default_factory=dict)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    causes: Counter[str] = field(default_factory=Counter)
    warmup_count: int = 0
    first_intended: float | None = None
    last_done: float | None = None

    def record(
        self, operation: str, intended: float, done: float, status: str, ok: bool, cause: str = ""
    ) -> None:
        """Record one request: `intended` is when it was meant to be sent, `done` when it ended;
        `cause` says who answered an error (compare.load.causes)."""
        if intended < self.measure_from:
            self.warmup_count += 1
            return
        latency_us = max(LOWEST_US, round((done - intended) * 1_000_000))
        histogram = self.histograms.get(operation)
        if histogram is None:
            histogram = self.histograms[operation] = new_histogram()
        histogram.record_value(min(latency_us, HIGHEST_US))
        self.statuses[status] += 1
        if not ok:
            self.errors[f"{operation}:{status}"] += 1
            self.causes[cause or f"application:{status}"] += 1
        if self.first_intended is None or intended < self.first_intended:
            self.first_intended = intended
        if self.last_done is None or done > self.last_done:
            self.last_done = done

    def absorb(self, other: Recorder) -> None:
        """Add another window's samples to this one (rounds of one measurement, interleaved with
        other targets' rounds, are summarised as one window)."""
        for operation, histogram in other.histograms.items():
            self.histograms.setdefault(operation, new_histogram()).add(histogram)
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)
        self.causes.update(other.causes)
        self.warmup_count += other.warmup_count
        firsts = [t for t in (self.first_intended, other.first_intended) if t is not None]
        lasts = [t for t in (self.last_done, other.last_done) if t is not None]
        self.first_intended = min(firsts, default=None)
        self.last_done = max(lasts, default=None)

    def merged(self) -> HdrHistogram:
        total = new_histogram()
        for histogram in self.histograms.values():
            total.add(histogram)
        return total

    @property
    def count(self) -> int:
        return sum(h.get_total_count() for h in self.histograms.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def summary(self, window_seconds: float | None = None) -> dict[str, Any]:
        """This window's counts and percentiles, as the recorder's part of a `Window`'s fields.

        Throughput is completed requests over the measured window (the intended duration when
        given, else first intended send to last completion).
        """
        window = window_seconds
        if window is None and self.first_intended is not None and self.last_done is not None:
            window = max(self.last_done - self.first_intended, 1e-9)
        count = self.count
        return {
            "requests": count,
            "errors": self.error_count,
            "error_rate": (self.error_count / count) if count else 0.0,
            "errors_by_status": dict(sorted(self.errors.items())),
            "errors_by_cause": dict(sorted(self.causes.items())),
            "statuses": dict(sorted(self.statuses.items())),
            "throughput_rps": (count / window) if window else 0.0,
            "window_s": window or 0.0,
            "warmup_excluded": self.warmup_count,
            "latency_ms": percentile_summary(self.merged()),
            "by_operation": {
                name: OperationLatency(h.get_total_count(), percentile_summary(h))
                for name, h in sorted(self.histograms.items())
            },
        }
