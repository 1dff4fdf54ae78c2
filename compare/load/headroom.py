"""Generator headroom: drive a trivial server at ≥ 2× the highest rate used, report our CPU.

If the generator keeps the schedule there (achieved rate, small send lag) against a server that
costs almost nothing, it was not the bottleneck at the lower rates used against the runtimes.
"""

from __future__ import annotations

import subprocess
import sys

from compare.load.http import Http
from compare.load.scheduler import run_open_loop
from compare.load.workload import constant_get_plan
from compare.results import Headroom, Window


async def headroom_check(rate: float, duration_s: float = 3.0, warmup_s: float = 0.5) -> Headroom:
    server = subprocess.Popen(
        [sys.executable, "-m", "compare.load.trivial", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().strip())
        async with Http(f"http://127.0.0.1:{port}") as client:
            total = duration_s + warmup_s
            result = await run_open_loop(
                client, constant_get_plan(rate, total), warmup_s=warmup_s, duration_s=total
            )
    finally:
        server.terminate()
        server.wait()
    summary = result.summary()
    return Headroom(
        rate_rps=rate,
        achieved_rps=summary.throughput_rps,
        sent_rps=summary.offered_rps,
        latency_ms=summary.latency_ms,
        send_lag_ms=summary.send_lag_ms,
        generator_cpu_s=summary.generator_cpu_s,
        generator_cpu_share=summary.generator_cpu_share,
        generator_cpu_ms_per_request=1000 * summary.generator_cpu_s / max(1, result.planned),
        kept_up=kept_up(summary, rate),
    )


def kept_up(summary: Window, rate: float) -> bool:
    """Whether the generator kept the schedule at `rate` against the trivial server.

    Every request sent and answered without error, sends on schedule (p90 send lag: the p99 also
    catches the scheduler hiccups of a shared VM, which open-loop accounting charges to latency
    anyway), and well under one core of CPU (the generator is one thread). Throughput over a short
    window is diluted by the last answers' tail: checked loosely.
    """
    return (
        summary.errors == 0
        and summary.offered_rps >= 0.99 * rate
        and summary.throughput_rps >= 0.95 * rate
        and summary.send_lag_ms.p90 < 5.0
        and summary.generator_cpu_share < 0.7
    )
