"""A reference round that turned out a transient after the runtime settled is measured once more."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from compare.load.scheduler import RunResult
from compare.load.stats import Recorder, new_histogram
from compare.measure import Probe, Round, once_more_if_transient
from compare.results import Interval, Settling


def _round(front_door_errors: int, slow_ms: float = 2.0) -> Round:
    recorder = Recorder()
    for i in range(100):
        failed = i < front_door_errors
        done = i * 0.01 + slow_ms / 1000
        recorder.record(
            "menu", i * 0.01, done, "500" if failed else "200", not failed, "front_door:500" if failed else ""
        )
    result = RunResult(recorder, 100, 0, 1.0, 0.0, new_histogram(), 0.01, 1.0)
    return Round(result, None, 1.0, [])


def _settling(steady: bool) -> Settling:
    hold = Interval("hold", 1.0, 1.0, 100.0, 100, 0, {}, 2.0, 4.0, None)
    return Settling(steady, 4.0, 1.0, 15.0, "steady" if steady else "time limit", "latency", (hold,) * 3)


def _measured(first: Round, second: Round) -> tuple[list[int], Callable[[int], Awaitable[Round]]]:
    attempts: list[int] = []

    async def measure(attempt: int) -> Round:
        attempts.append(attempt)
        return first if attempt == 0 else second

    return attempts, measure


def test_a_round_answered_by_the_front_door_after_settling_is_measured_again_and_named() -> None:
    storm, calm = _round(4, slow_ms=1400.0), _round(0)
    attempts, measure = _measured(storm, calm)
    kept, first_try = asyncio.run(once_more_if_transient(measure, 100.0, Probe(), _settling(True)))
    assert attempts == [0, 1] and kept is calm
    assert re.fullmatch(r"4 answered by the front door \(API Gateway\) 500; p99 14\d\d ms", first_try)


def test_a_calm_round_or_a_runtime_that_never_settled_is_measured_once() -> None:
    calm = _round(0)
    attempts, measure = _measured(calm, calm)
    assert asyncio.run(once_more_if_transient(measure, 100.0, Probe(), _settling(True))) == (calm, "")
    storm = _round(4)
    attempts, measure = _measured(storm, calm)
    # Not settled: the window is a transient and is reported as one (not steady), not hidden by a retry.
    assert asyncio.run(once_more_if_transient(measure, 100.0, Probe(), _settling(False))) == (storm, "")
    assert attempts == [0]
