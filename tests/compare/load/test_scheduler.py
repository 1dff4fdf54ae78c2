"""The open-loop scheduler: constant arrivals, latency from the intended send time.

The timing properties are checked in virtual time (looptime): the event loop's clock only moves
when every task is waiting, so a send that is late, or a latency that is off by one request, shows
as an exact difference instead of hiding in a busy machine's noise. A "server" there is a
coroutine that sleeps for its service time. Two tests then drive a real socket server in real
time, asserting only what noise cannot break (counts, and lower bounds on latency).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import looptime
import pytest

from compare.load.http import Http
from compare.load.scheduler import RunResult, combined_summary, run_open_loop
from compare.load.trivial import Stall, start_trivial_server
from compare.load.workload import Outcome, Planned, constant_get_plan

T = TypeVar("T")
# run_open_loop starts its clock this long after it is called; in virtual time, exactly.
LEAD_S = 0.05
MS = 1000.0


def _in_virtual_time(scenario: Callable[[], Awaitable[T]]) -> T:
    loop = looptime.new_event_loop(start=0.0)
    try:
        return loop.run_until_complete(scenario())
    finally:
        loop.close()


@dataclass
class VirtualServer:
    """Answers each request after `service_s`; one arriving in the stall [start, end) (seconds
    after the plan's start) is held until the stall ends. Records when each request arrived."""

    service_s: float
    stall: tuple[float, float] | None = None
    arrivals: list[float] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0

    async def handle(self, client: Http) -> Outcome:
        now = round(asyncio.get_running_loop().time() - LEAD_S, 6)
        self.arrivals.append(now)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self.stall is not None and self.stall[0] <= now < self.stall[1]:
            await asyncio.sleep(self.stall[1] - now)
        await asyncio.sleep(self.service_s)
        self.in_flight -= 1
        return Outcome("200", True)

    def run(self, rate: float, duration: float, warmup: float = 0.0) -> RunResult:
        plan = [Planned(i / rate, "get", self.handle) for i in range(round(rate * duration))]

        async def scenario() -> RunResult:
            async with Http("http://127.0.0.1:9") as unused:  # the virtual server needs no socket
                return await run_open_loop(unused, plan, warmup_s=warmup, duration_s=duration)

        return _in_virtual_time(scenario)


def _latencies_ms(result: RunResult) -> list[float]:
    histogram = result.recorder.merged()
    return [
        item.value_iterated_to / MS
        for item in histogram.get_recorded_iterator()
        for _ in range(item.count_at_value_iterated_to)
    ]


def test_sends_every_request_on_its_grid_slot_while_answers_are_outstanding() -> None:
    # Every answer takes 0.4 s: at 200 req/s about 80 are outstanding at once. A closed loop with
    # fewer connections would fall behind; the open loop keeps to the grid exactly.
    server = VirtualServer(service_s=0.4)
    summary = server.run(rate=200, duration=1.0).summary()
    assert summary.requests == 200 and summary.errors == 0
    assert server.arrivals == pytest.approx([i / 200 for i in range(200)], abs=1e-6)
    assert server.most_in_flight == 80
    assert summary.send_lag_ms.max <= 0.001  # the histogram's floor: 1 µs
    assert summary.latency_ms.p50 == pytest.approx(400, rel=1e-3)
    assert summary.latency_ms.max == pytest.approx(400, rel=1e-3)


def test_a_stall_inflates_the_latency_of_every_request_due_during_it() -> None:
    # 200 req/s for 1.5 s; requests arriving from 0.3 s to 0.9 s are answered at 0.9 s. A closed
    # loop would send one request per connection during the stall and record one slow sample each;
    # the open loop records every request that was due: the one at t waited 0.9 - t.
    server = VirtualServer(service_s=0.001, stall=(0.3, 0.9))
    result = server.run(rate=200, duration=1.5)
    latencies = _latencies_ms(result)
    assert len(latencies) == 300
    stalled = [t for t in server.arrivals if 0.3 <= t < 0.9]
    assert len(stalled) == 120
    assert sum(1 for ms in latencies if ms >= 300) == 61  # due at 0.300, 0.305, …, 0.600 s
    assert max(latencies) == pytest.approx(601, rel=1e-3)
    assert result.summary().latency_ms.p50 == pytest.approx(1, rel=1e-2)
    # 90 % of the requests are the 180 unstalled ones plus the 90 stalled ones due latest.
    assert result.summary().latency_ms.p90 == pytest.approx(451, rel=1e-2)


def test_warmup_requests_are_sent_but_not_measured() -> None:
    server = VirtualServer(service_s=0.002)
    summary = server.run(rate=100, duration=1.0, warmup=0.5).summary()
    assert len(server.arrivals) == 100
    assert summary.warmup_excluded == 50
    assert summary.requests == 50


def test_rounds_combine_into_one_window() -> None:
    # Two rounds against one target, a slow one and a fast one: one summary over 2 s of windows.
    slow = VirtualServer(service_s=0.010).run(rate=100, duration=1.5, warmup=0.5)
    fast = VirtualServer(service_s=0.002).run(rate=100, duration=1.2, warmup=0.2)
    combined = combined_summary([slow, fast])
    assert combined.requests == 200 and combined.warmup_excluded == 70
    assert combined.planned == 270
    assert combined.throughput_rps == pytest.approx(100, rel=0.01)  # 200 answers over ~2 s
    assert combined.offered_rps == pytest.approx(100)
    assert combined.latency_ms.p50 == pytest.approx(2, rel=0.01)  # half of each
    assert combined.latency_ms.p90 == pytest.approx(10, rel=0.01)
    assert combined.send_lag_ms.max <= 0.001


def test_a_dependent_step_is_timed_from_when_it_could_be_sent() -> None:
    async def scenario() -> tuple[float, float]:
        gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def producer(client: Http) -> Outcome:
            await asyncio.sleep(0.3)
            gate.set_result(None)
            return Outcome("201", True)

        async def consumer(client: Http) -> Outcome:
            await asyncio.sleep(0.002)
            return Outcome("200", True)

        plan = [
            Planned(0.0, "produce", producer, produces=gate),
            Planned(0.05, "consume", consumer, depends_on=gate),
        ]
        async with Http("http://127.0.0.1:9") as unused:
            result = await run_open_loop(unused, plan, duration_s=0.1)
        histograms = result.recorder.histograms
        return histograms["produce"].get_max_value() / MS, histograms["consume"].get_max_value() / MS

    produce_ms, consume_ms = _in_virtual_time(scenario)
    assert produce_ms == pytest.approx(300, rel=1e-3)
    # Counted from the producer's answer at 300 ms, not from its own slot at 50 ms.
    assert consume_ms == pytest.approx(2, rel=1e-2)


async def _real_run(
    rate: float, duration: float, connections: int, stall: tuple[float, float] | None
) -> RunResult:
    shared = Stall()
    server = await start_trivial_server(stall=shared)
    port = server.sockets[0].getsockname()[1]
    try:
        async with Http(f"http://127.0.0.1:{port}", connections=connections) as client:
            if stall is not None:
                begin = time.monotonic() + LEAD_S
                shared.start, shared.end = begin + stall[0], begin + stall[0] + stall[1]
            return await run_open_loop(client, constant_get_plan(rate, duration), duration_s=duration)
    finally:
        server.close()


def test_drives_a_real_server_over_http() -> None:
    summary = asyncio.run(_real_run(rate=200, duration=1.0, connections=256, stall=None)).summary()
    assert summary.requests == 200
    assert summary.errors == 0
    assert summary.generator_cpu_s > 0


def test_requests_queued_in_the_client_pool_are_timed_from_their_intended_time() -> None:
    # Only 2 connections and the real server holds answers from 0.3 s to 0.9 s: every other request
    # waits in aiohttp's pool. Timing from when a connection became free (what a closed-loop tool
    # does) would record 2 slow requests; timing from the intended time records all that were due.
    # A busy machine can only make these latencies longer, so the bounds hold under any noise.
    result = asyncio.run(_real_run(rate=200, duration=1.5, connections=2, stall=(0.3, 0.6)))
    slow = sum(1 for ms in _latencies_ms(result) if ms >= 300)
    assert slow >= 50
    assert result.summary().latency_ms.p90 >= 150


def test_requests_sent_late_by_a_blocked_generator_are_timed_from_their_intended_time() -> None:
    # The first request blocks the event loop for 0.3 s (as a CPU-starved generator would), so the
    # ~60 requests due meanwhile go out late. Each one's latency must include its lateness: the
    # ones due in the first 0.15 s were at least 0.15 s late. (Real time: a virtual clock does
    # not move while the loop is blocked. Noise can only add lateness.)
    blocked = False

    async def action(client: Http) -> Outcome:
        nonlocal blocked
        if not blocked:
            blocked = True
            time.sleep(0.3)
        return Outcome("200", True)

    async def scenario() -> RunResult:
        plan = [Planned(i / 200, "get", action) for i in range(100)]
        async with Http("http://127.0.0.1:9") as unused:
            return await run_open_loop(unused, plan, duration_s=0.5)

    result = asyncio.run(scenario())
    assert sum(1 for ms in _latencies_ms(result) if ms >= 150) >= 30
    assert result.summary().send_lag_ms.max >= 250


@pytest.mark.parametrize("rate", [50.0, 333.0])
def test_plan_is_an_exact_grid(rate: float) -> None:
    plan = constant_get_plan(rate, 2.0)
    assert len(plan) == round(rate * 2)
    gaps = {round(b.at - a.at, 9) for a, b in itertools.pairwise(plan)}
    assert gaps == {round(1 / rate, 9)}
