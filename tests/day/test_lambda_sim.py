"""Lambda's lifecycle in the simulator: an environment per concurrent request, init on the request
path, reuse while warm, reaping after the idle time, throttling at the concurrency limit."""

from __future__ import annotations

import numpy as np
import pytest

from compare.aws_model import Constant
from compare.day.lambda_sim import LambdaOutcome, simulate
from tests.day.conftest import arrivals, draws

INIT = (Constant(100.0), Constant(50.0))  # 150 ms on the request path


def run(
    times: list[float], *, cpu_s: float = 0.0, io_s: float = 1.0, idle: float = 600.0, limit: int = 1000
) -> LambdaOutcome:
    arr = arrivals(times)
    return simulate(
        arr,
        draws(len(arr), cpu_s, io_s),
        memory_mb=1769,
        idle_reap_s=idle,
        concurrency_limit=limit,
        init_ms=INIT,
        seed=1,
    )


def test_a_burst_creates_one_environment_per_concurrent_request() -> None:
    burst = [1000.0] * 7
    later = [1010.0] * 7  # after the burst has finished: every environment is warm again
    out = run(burst + later)
    assert out.environments == 7
    assert out.cold.tolist() == [True] * 7 + [False] * 7
    assert out.latency_s[:7] == pytest.approx([1.15] * 7)  # init + service
    assert out.latency_s[7:] == pytest.approx([1.0] * 7)


def test_an_environment_is_reaped_after_the_idle_time() -> None:
    # 2nd request within the idle time (warm), 3rd after 10 idle minutes and one second (cold)
    out = run([0.0, 300.0, 300.0 + 1.0 + 601.0], idle=600.0)
    assert out.cold.tolist() == [True, False, True]
    assert [d for _, d in out.env_events] == [+1, -1, +1, -1]
    reaped_at = out.env_events[1][0]
    assert reaped_at == pytest.approx(301.0 + 600.0)


def test_a_longer_idle_time_keeps_it_warm() -> None:
    out = run([0.0, 300.0, 902.0], idle=1800.0)
    assert out.cold.tolist() == [True, False, False]


def test_requests_beyond_the_concurrency_limit_are_throttled_not_queued() -> None:
    out = run([5.0] * 5, limit=3)
    assert int(out.throttled.sum()) == 2
    assert int(np.isnan(out.latency_s).sum()) == 2
    assert out.environments == 3


def test_cpu_is_limited_to_the_memory_share_of_a_vcpu() -> None:
    # 512 MB ≈ 0.29 vCPU: 50 ms of CPU takes longer than 50 ms (quota of ≈ 29 ms per 100 ms)
    arr = arrivals([0.0])
    out = simulate(
        arr,
        draws(1, 0.050),
        memory_mb=512,
        idle_reap_s=600,
        concurrency_limit=10,
        init_ms=(Constant(0.0),),
        seed=0,
    )
    assert out.latency_s[0] == pytest.approx(0.1 + (0.050 - 0.1 * 512 / 1769), rel=1e-6)
