"""The open-loop scheduler: constant arrivals, latency from the intended send time."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest

from compare.scheduler import Http, RunResult, run_open_loop
from compare.trivial import Stall, start_trivial_server
from compare.workload import Outcome, Planned, constant_get_plan


async def _run(
    rate: float,
    duration: float,
    stall: tuple[float, float] | None = None,
    warmup: float = 0.0,
    delay: float = 0.0,
    connections: int = 256,
) -> RunResult:
    shared = Stall(delay=delay)
    server = await start_trivial_server(stall=shared)
    port = server.sockets[0].getsockname()[1]
    try:
        async with Http(f"http://127.0.0.1:{port}", connections=connections) as client:
            if stall is not None:
                # run_open_loop starts its clock 50 ms after it is called.
                begin = time.monotonic() + 0.05
                shared.start, shared.end = begin + stall[0], begin + stall[0] + stall[1]
            return await run_open_loop(
                client, constant_get_plan(rate, duration), warmup_s=warmup, duration_s=duration
            )
    finally:
        server.close()


def test_sends_at_the_constant_rate() -> None:
    result = asyncio.run(_run(rate=200, duration=1.0))
    summary = result.summary()
    assert summary["requests"] == 200
    assert summary["errors"] == 0
    assert summary["send_lag_ms"]["p90"] < 20
    assert summary["latency_ms"]["p50"] < 50


def test_stalled_server_inflates_latency_of_every_request_due_during_the_stall() -> None:
    # 200 req/s for 1.5 s; the server holds every answer from 0.3 s to 0.9 s.
    result = asyncio.run(_run(rate=200, duration=1.5, stall=(0.3, 0.6)))
    histogram = result.recorder.merged()
    total = histogram.get_total_count()
    assert total == 300
    # Requests intended in the stall's first half waited ≥ 0.3 s. A closed-loop client would have
    # sent only one request per connection during the stall and recorded one slow sample each;
    # open-loop accounting records all ~60 of them as slow.
    slow = sum(1 for v in _values(histogram) if v >= 300_000)
    assert slow >= 50
    assert histogram.get_max_value() >= 550_000
    summary = result.summary()
    assert summary["latency_ms"]["p90"] >= 150  # ~120 of 300 requests were due in the stall
    # The generator never waited for the server (its p50 send lag stays small; the server shares
    # this test's event loop, so the burst of answers at the stall's end may delay a few sends).
    assert summary["send_lag_ms"]["p50"] < 20


def test_requests_queued_behind_a_stall_are_timed_from_their_intended_time() -> None:
    # Only 2 connections: during the stall every other request waits in the client's pool. Timing
    # from when a connection became free (what a closed-loop tool does) would record 2 slow
    # requests; timing from the intended send time records every request that was due.
    result = asyncio.run(_run(rate=200, duration=1.5, stall=(0.3, 0.6), connections=2))
    histogram = result.recorder.merged()
    slow = sum(1 for v in _values(histogram) if v >= 300_000)
    assert slow >= 50
    assert result.summary()["latency_ms"]["p90"] >= 150


def _values(histogram: Any) -> Iterator[int]:
    for item in histogram.get_recorded_iterator():
        for _ in range(item.count_at_value_iterated_to):
            yield item.value_iterated_to


def test_slow_responses_do_not_slow_the_sending() -> None:
    # Every answer is held 0.4 s; a closed loop with few connections would fall behind.
    result = asyncio.run(_run(rate=100, duration=1.0, delay=0.4))
    summary = result.summary()
    assert summary["requests"] == 100
    assert summary["send_lag_ms"]["p90"] < 30
    assert summary["latency_ms"]["p50"] >= 395


def test_dependent_step_is_timed_from_when_it_could_be_sent() -> None:
    async def scenario() -> tuple[float, float]:
        loop = asyncio.get_running_loop()
        gate: asyncio.Future[None] = loop.create_future()

        async def producer(client: Http) -> Outcome:
            await asyncio.sleep(0.3)
            gate.set_result(None)
            return Outcome("201", True)

        async def consumer(client: Http) -> Outcome:
            return Outcome("200", True)

        plan = [
            Planned(0.0, "produce", producer, produces=gate),
            Planned(0.05, "consume", consumer, depends_on=gate),
        ]
        async with Http("http://127.0.0.1:9") as client:
            result = await run_open_loop(client, plan, duration_s=0.1)
        return (
            result.recorder.histograms["produce"].get_max_value() / 1000,
            result.recorder.histograms["consume"].get_max_value() / 1000,
        )

    produce_ms, consume_ms = asyncio.run(scenario())
    assert produce_ms >= 295
    assert consume_ms < 50  # counted from the producer's answer, not from its own slot at 50 ms


def test_warmup_is_excluded() -> None:
    result = asyncio.run(_run(rate=100, duration=1.0, warmup=0.5))
    summary = result.summary()
    assert summary["warmup_excluded"] == 50
    assert summary["requests"] == 50


@pytest.mark.parametrize("rate", [50.0, 333.0])
def test_plan_is_an_exact_grid(rate: float) -> None:
    plan = constant_get_plan(rate, 2.0)
    assert len(plan) == round(rate * 2)
    gaps = {round(b.at - a.at, 9) for a, b in itertools.pairwise(plan)}
    assert gaps == {round(1 / rate, 9)}
