"""The warm-up section and the verdict's word on a window that was not steady (from stored data)."""

from __future__ import annotations

from dataclasses import replace

from compare.report.charts import Charts
from compare.report.format import ms
from compare.report.steady import TITLE, section
from compare.report.verdict import build_verdict
from compare.results import FirstMinute, Interval, Percentiles, RunResults, Settling
from tests.compare.sample import full_sample_results

P = Percentiles(p50=2.0, p90=3.0, p99=4.0, p99_9=5.0, max=6.0, mean=2.2)


def _settling(steady: bool) -> Settling:
    hold = Interval("hold", 1.5, 1.0, 100.0, 100, 0, {}, 2.0, 4.0, 0)
    return Settling(
        steady=steady,
        seconds=4.5,
        ramp_s=1.5,
        max_s=15.0,
        reason="steady: no new cold start" if steady else "time limit (15 s) reached: p99 still moving",
        signal="REPORT lines' Init Duration",
        intervals=(hold,) * 3,
        steady_latency_ms=P if steady else None,
        steady_requests=300 if steady else 0,
    )


def _with(results: RunResults, name: str, steady_settle: bool, window_errors: dict[str, int]) -> RunResults:
    entry = results.runtimes[name]
    assert entry.reference is not None
    ref = replace(
        entry.reference,
        errors=sum(window_errors.values()),
        errors_by_cause=window_errors,
        steady=steady_settle and not window_errors,
    )
    first = FirstMinute(
        seconds=60.0,
        rate_rps=100.0,
        requests=5990,
        errors=88,
        errors_by_cause={"front_door:500": 88},
        latency_ms=replace(P, p99=2006.0),
        cold_starts=31,
        cold_start_signal="REPORT lines",
        throttles=88,
        intervals=(
            Interval("first minute", 0.0, 10.0, 100.0, 990, 88, {"front_door:500": 88}, 9.0, 2006.0, 31),
        ),
        idle="as found",
    )
    changed = replace(entry, reference=ref, settling=_settling(steady_settle), first_minute=first)
    return replace(results, runtimes={**results.runtimes, name: changed})


def test_steady_windows_get_no_warning_and_the_first_minute_stands_beside_them() -> None:
    results = _with(full_sample_results(), "lambda", True, {})
    verdict = build_verdict(results)
    assert not [w for w in verdict.warnings if "not steady" in w]
    (claim,) = [c for c in verdict.differences if c.section == TITLE]
    assert (
        "Lambda: cold starts 31, 88 throttles at the front door, 88 errors the café did not answer"
        in claim.text
    )
    text = str(section(results, Charts()))
    reference = results.runtimes["lambda"].reference
    assert reference is not None
    assert "88 answered by the front door (API Gateway) 500" in text
    assert f"{ms(reference.latency_ms.p99)} (reference window)" in text  # the steady figure beside it


def test_a_window_with_front_door_errors_is_named_with_the_settled_figure_beside_it() -> None:
    results = _with(full_sample_results(), "lambda", True, {"front_door:500": 12})
    (warning,) = [w for w in build_verdict(results).warnings if "not steady" in w]
    assert warning.startswith("**Lambda's reference window was not steady**")
    assert "12 errors (12 answered by the front door (API Gateway) 500)" in warning
    assert "they exclude it from the" in warning  # errors fail the SLO's zero-error rule
    assert "its steady p99 is 4.00 ms (the stable intervals that ended its settling" in warning


def test_a_runtime_that_never_settled_is_said_to_have_no_steady_figure() -> None:
    results = _with(full_sample_results(), "fargate", False, {})
    (warning,) = [w for w in build_verdict(results).warnings if "not steady" in w]
    assert warning.startswith("**Fargate's reference window was not steady** (NOT steady after 4.5 s")
    assert "no steady state was reached within the bound" in warning
    assert "**no**" in str(section(results, Charts()))


def test_a_round_measured_again_after_a_transient_is_named_beside_the_steady_window() -> None:
    results = _with(full_sample_results(), "lambda", True, {})
    entry = results.runtimes["lambda"]
    assert entry.reference is not None
    first_try = "round 1: 4 answered by the front door (API Gateway) 500; p99 1456 ms"
    ref = replace(entry.reference, remeasured=(first_try,))
    results = replace(results, runtimes={**results.runtimes, "lambda": replace(entry, reference=ref)})
    assert f"steady; measured again, a transient first: {first_try}" in str(section(results, Charts()))
    assert not [w for w in build_verdict(results).warnings if "not steady" in w]
