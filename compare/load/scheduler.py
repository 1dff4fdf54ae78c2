"""Open-loop request scheduling: send at a constant rate whatever the server does.

Each planned request is started at its intended time (start + offset) in its own task, never
waiting for earlier requests to finish, and its latency is counted from that intended time. A
server that stalls therefore inflates the latency of every request that was due during the stall
(no coordinated omission). The generator's own health is measured too: how late it dispatched
requests (send lag) and its CPU time, so a slow generator cannot pass for a slow server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp
from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

from compare.load.causes import transport
from compare.load.http import Http
from compare.load.stats import Recorder, new_histogram, percentile_summary
from compare.load.workload import Planned
from compare.results import Window


@dataclass(frozen=True)
class Sample:
    """One answer as it came: `at_s` is its intended send time since the plan's start."""

    operation: str
    at_s: float
    latency_s: float
    status: str
    ok: bool
    cause: str


@dataclass
class RunResult:
    """One open-loop window: the recorder plus the generator's own health figures."""

    recorder: Recorder
    planned: int
    skipped: int
    duration_s: float
    warmup_s: float
    send_lag: HdrHistogram  # µs each measured request was dispatched after its intended time
    generator_cpu_s: float
    wall_s: float

    @property
    def nominal_window_s(self) -> float:
        return max(self.duration_s - self.warmup_s, 1e-9)

    @property
    def measured_window_s(self) -> float:
        """The nominal window, stretched when the last answers came after it ended."""
        if self.recorder.last_done is None:
            return self.nominal_window_s
        return max(self.nominal_window_s, self.recorder.last_done - self.recorder.measure_from)

    def summary(self) -> Window:
        return combined_summary([self])


def combined_summary(runs: Sequence[RunResult]) -> Window:
    """One summary of several windows against one target, as if they were one long window:
    samples and counters added, throughput over the sum of the windows."""
    recorder, lag = Recorder(), new_histogram()
    for run in runs:
        recorder.absorb(run.recorder)
        lag.add(run.send_lag)
    nominal = sum(run.nominal_window_s for run in runs)
    duration = sum(run.duration_s for run in runs)
    planned = sum(run.planned for run in runs)
    generator_cpu_s = sum(run.generator_cpu_s for run in runs)
    wall_s = sum(run.wall_s for run in runs)
    return Window(
        **recorder.summary(window_seconds=sum(run.measured_window_s for run in runs)),
        offered_rps=recorder.count / nominal,
        planned=planned,
        skipped=sum(run.skipped for run in runs),
        planned_rate_rps=planned / duration if duration else 0.0,
        send_lag_ms=percentile_summary(lag),
        generator_cpu_s=generator_cpu_s,
        generator_cpu_share=generator_cpu_s / wall_s if wall_s else 0.0,
    )


async def run_open_loop(
    client: Http,
    plan: Sequence[Planned],
    warmup_s: float = 0.0,
    duration_s: float | None = None,
    on_progress: Callable[[int], None] | None = None,
    clock: Callable[[], float] | None = None,
    on_measure_start: Callable[[], None] | None = None,
    on_sample: Callable[[Sample], None] | None = None,
) -> RunResult:
    """Send `plan` open-loop; requests intended before `warmup_s` are sent but not measured.

    `on_measure_start` is called once, just before the first measured request is sent, so that
    server-side counters (CPU, REPORT lines) can be read for the measured window only. `clock`
    defaults to the event loop's own, so the schedule follows whatever time the loop keeps (the
    tests run it in virtual time). `on_sample` sees every answer, warm-up included, with its
    intended send time relative to the plan's start (the warm-up and first-minute intervals).
    """
    loop = asyncio.get_running_loop()
    clock = clock or loop.time
    cpu0, wall0 = time.process_time(), clock()
    start = clock() + 0.05
    recorder = Recorder(measure_from=start + warmup_s)
    lag = new_histogram()
    tasks: list[asyncio.Task[None]] = []
    skipped = 0

    async def one(item: Planned, intended: float) -> None:
        nonlocal skipped
        send_from = intended
        if item.depends_on is not None:
            await item.depends_on
            send_from = max(intended, clock())
        try:
            outcome = await item.action(client)
        except TimeoutError:
            done(item.operation, send_from, "timeout", False, transport("timeout"))
            return
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            done(item.operation, send_from, type(exc).__name__, False, transport(type(exc).__name__))
            return
        if outcome is None:
            skipped += 1
            return
        done(outcome.operation or item.operation, send_from, outcome.status, outcome.ok, outcome.cause)

    def done(operation: str, send_from: float, status: str, ok: bool, cause: str) -> None:
        end = clock()
        recorder.record(operation, send_from, end, status, ok, cause)
        if on_sample is not None:
            on_sample(Sample(operation, send_from - start, end - send_from, status, ok, cause))

    for index, item in enumerate(plan):
        intended = start + item.at
        delay = intended - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        if item.at >= warmup_s:
            if on_measure_start is not None:
                on_measure_start()
                on_measure_start = None
            lag.record_value(max(1, round((clock() - intended) * 1_000_000)))
        tasks.append(loop.create_task(one(item, intended)))
        if on_progress is not None and index % 50 == 0:
            on_progress(index)
    if tasks:
        await asyncio.gather(*tasks)
    if on_progress is not None:
        on_progress(len(plan))
    total = duration_s if duration_s is not None else (plan[-1].at if plan else 0.0)
    return RunResult(
        recorder=recorder,
        planned=len(plan),
        skipped=skipped,
        duration_s=total,
        warmup_s=warmup_s,
        send_lag=lag,
        generator_cpu_s=time.process_time() - cpu0,
        wall_s=clock() - wall0,
    )
