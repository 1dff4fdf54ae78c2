"""Reaching a steady state: the judge on intervals, and the run against a café that warms up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compare.__main__ import main
from compare.load.settle import SettleConfig, judge
from compare.results import Interval

CFG = SettleConfig(ramp_s=1.0, interval_s=1.0, stable=3, tolerance=0.5, floor_ms=5.0)


def held(p99: float, cold: int | None = 0, **causes: int) -> Interval:
    return Interval("hold", 0.0, 1.0, 100.0, 100, sum(causes.values()), dict(causes), p99 / 2, p99, cold)


def test_too_few_intervals_are_not_a_steady_state() -> None:
    steady, reason = judge([held(5), held(5)], CFG)
    assert not steady and "fewer than 3" in reason


def test_a_new_cold_start_in_the_recent_intervals_keeps_it_unsteady() -> None:
    steady, reason = judge([held(5), held(5), held(5, cold=1), held(5)], CFG)
    assert not steady and "1 new cold starts" in reason
    assert judge([held(5, cold=2), held(5), held(5), held(5)], CFG)[0]  # older than the last 3


def test_errors_the_cafe_did_not_answer_keep_it_unsteady_its_own_do_not() -> None:
    steady, reason = judge([held(5), held(5, **{"front_door:500": 4}), held(5)], CFG)
    assert not steady and "front door" in reason
    assert not judge([held(5), held(5), held(5, **{"transport:timeout": 1})], CFG)[0]
    steady, reason = judge([held(5, **{"application:queue_full": 3})] * 3, CFG)
    assert steady, reason


def test_a_p99_still_moving_keeps_it_unsteady_within_tolerance_it_is_steady() -> None:
    steady, reason = judge([held(80), held(40), held(20)], CFG)
    assert not steady and "p99 still moving" in reason
    steady, reason = judge([held(30), held(40), held(35)], CFG)  # within 50 % of 30
    assert steady and "no new cold start" in reason
    assert judge([held(2), held(6), held(4)], CFG)[0]  # within the 5 ms floor


def test_without_a_cold_start_signal_it_says_so_by_omission() -> None:
    steady, reason = judge([held(5, cold=None)] * 3, CFG)
    assert steady and "cold start" not in reason


SHORT = [
    "--rates",
    "20",
    "--step-s",
    "0.5",
    "--warmup-s",
    "0.2",
    "--reference-rate",
    "40",
    "--reference-s",
    "0.6",
    "--reference-warmup-s",
    "0.2",
    "--reference-rounds",
    "1",
    "--slo-p99-ms",
    "1000",
    "--first-minute-s",
    "0.5",
    "--ramp-s",
    "0.3",
    "--settle-interval-s",
    "0.3",
    "--no-headroom",
    "--quiet",
    "--no-modes",  # against a fake café: the modes need a real one (tests/compare/test_end_to_end.py)
]


def _run(url: str, out: Path, max_s: str) -> tuple[dict[str, Any], str]:
    assert main(["run", "--target", f"lambda={url}", "--out", str(out), "--settle-max-s", max_s, *SHORT]) == 0
    (report_dir,) = [p for p in out.iterdir() if p.is_dir()]
    results = json.loads((report_dir / "results.json").read_text())
    return results["runtimes"]["lambda"], (report_dir / "report.md").read_text()


def test_the_window_waits_for_the_warm_up_and_the_first_minute_keeps_it(
    warming_cafe: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAFE_STAFF_TOKEN", "test-token")
    entry, md = _run(warming_cafe, tmp_path, "8")
    first, settling, reference = entry["first_minute"], entry["settling"], entry["reference"]
    # The first minute met the front door's 500s, counted as such and not as the café's errors.
    assert first["errors_by_cause"].get("front_door:500", 0) > 0
    assert not [c for c in first["errors_by_cause"] if c.startswith("application:")]
    assert first["throttles"] == 0 and first["cold_starts"] is None  # no 429s; no REPORT lines
    # Settling held until the warm-up (2 s after the first order) was over, then stopped steady.
    hold = [i for i in settling["intervals"] if i["phase"] == "hold"]
    assert [i["phase"] for i in settling["intervals"][:3]] == ["ramp"] * 3
    assert any(i["errors_by_cause"] for i in hold[:-3]) and not any(i["errors_by_cause"] for i in hold[-3:])
    assert settling["steady"] and settling["reason"].startswith("steady") and settling["seconds"] >= 1.0
    assert settling["steady_latency_ms"]["p99"] > 0 and settling["steady_requests"] > 0
    # The reference window after it: steady, no error counted against the runtime for its warm-up.
    assert reference["steady"] is True and reference["errors"] == 0 and reference["errors_by_cause"] == {}
    assert "## Warm-up and the first minute after idle" in md and "The first 0.5 s after idle" in md
    assert "was not steady" not in md


def test_a_window_taken_before_the_runtime_settled_is_named_with_no_steady_figure(
    warming_cafe: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAFE_STAFF_TOKEN", "test-token")
    entry, md = _run(warming_cafe, tmp_path, "1")  # bound shorter than the 2 s warm-up
    settling, reference = entry["settling"], entry["reference"]
    assert not settling["steady"] and settling["reason"].startswith("time limit (1 s) reached")
    assert settling["steady_latency_ms"] is None
    assert reference["steady"] is False
    assert "**Lambda's reference window was not steady**" in md
    assert "no steady state was reached within the bound" in md
