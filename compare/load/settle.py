"""Before a reference window: the first minute after idle (its own figure), then a steady state.

`first_minute` offers the reference rate at once to a runtime that sat idle, for a fixed time (a
café opening its doors at 7:00), in one open-loop run cut into intervals by intended send time:
cold starts met, throttles, errors by who answered them (compare.load.causes), latency.

`settle` then ramps the offered rate up as real traffic grows (a quarter, half and three quarters
of the rate, `ramp_s` in all) and holds the rate in intervals until the runtime stops changing:
over the last `stable` intervals no new cold start (REPORT lines' Init Duration, where readable),
no error the café did not answer itself (the front door, something outside the app, transport) and
a p99 that stopped moving (its spread within max(`tolerance` × the lowest, `floor_ms`)). It stops
there or at `max_s`, and says which; the stable intervals together are the steady figure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from compare.load.causes import describe, not_the_app
from compare.load.http import Http
from compare.load.scheduler import Sample, combined_summary, run_open_loop
from compare.load.stats import Recorder, percentile_summary
from compare.load.workload import CafeContext, build_plan
from compare.probes.coldseen import ColdStartCounter
from compare.results import MEASURED_HERE, FirstMinute, Interval, Settling

RAMP = (0.25, 0.5, 0.75)  # fractions of the rate offered on the way up


@dataclass(frozen=True)
class SettleConfig:
    ramp_s: float
    interval_s: float
    stable: int = 3
    max_s: float = 60.0
    tolerance: float = 0.5
    floor_ms: float = 5.0


def _interval(
    phase: str, start_s: float, seconds: float, rate: float, recorder: Recorder, cold: int | None
) -> Interval:
    summary = percentile_summary(recorder.merged())
    return Interval(
        phase=phase,
        start_s=round(start_s, 3),
        seconds=round(seconds, 3),
        rate_rps=rate,
        requests=recorder.count,
        errors=recorder.error_count,
        errors_by_cause=dict(sorted(recorder.causes.items())),
        p50_ms=summary.p50,
        p99_ms=summary.p99,
        cold_starts=cold,
    )


def judge(hold: Sequence[Interval], cfg: SettleConfig, noun: str = "cold starts") -> tuple[bool, str]:
    """Whether the last `cfg.stable` held intervals show a runtime that stopped changing, and why
    (`noun`: what the intervals' counts are, cold starts or scaling activities)."""
    if len(hold) < cfg.stable:
        return False, f"fewer than {cfg.stable} intervals held at the rate"
    recent = list(hold[-cfg.stable :])
    if any(i.requests == 0 for i in recent):
        return False, "an interval with no answers"
    cold = [i.cold_starts for i in recent]
    if any(c for c in cold):
        changing = "still cold-starting" if noun == "cold starts" else "still scaling"
        return False, f"{changing}: {sum(c or 0 for c in cold)} new {noun} in the last {cfg.stable}"
    foreign: dict[str, int] = {}
    for i in recent:
        for cause, n in not_the_app(i.errors_by_cause).items():
            foreign[cause] = foreign.get(cause, 0) + n
    if foreign:
        return (
            False,
            f"errors the café did not answer in the last {cfg.stable} intervals: {describe(foreign)}",
        )
    p99s = [i.p99_ms for i in recent]
    allowed = max(cfg.tolerance * min(p99s), cfg.floor_ms)
    shown = " / ".join(f"{p:.1f}" for p in p99s)
    if max(p99s) - min(p99s) > allowed:
        return False, f"p99 still moving ({shown} ms, more than {allowed:.1f} ms apart)"
    cold_text = f"no new {noun}, " if all(c is not None for c in cold) else ""
    return True, (
        f"steady: {cold_text}no error from the front door or transport and p99 within "
        f"{allowed:.1f} ms over the last {cfg.stable} intervals ({shown} ms)"
    )


async def settle(
    client: Http,
    ctx: CafeContext,
    rate: float,
    cfg: SettleConfig,
    counter: ColdStartCounter | None,
    signal: str,
    seed_offset: int = 0,
    on_progress: Callable[[float], None] | None = None,
    source: str = MEASURED_HERE,
) -> Settling:
    """Ramp up, then hold `rate` until `judge` says steady or `cfg.max_s` would be passed."""
    started = time.monotonic()
    intervals: list[Interval] = []
    recorders: list[Recorder] = []
    sent = 0
    chunk = 0
    at = 0.0

    async def drive(phase: str, offered: float, seconds: float) -> None:
        nonlocal sent, chunk, at
        plan = build_plan(ctx, offered, seconds, seed_offset=seed_offset + 10 * chunk)
        chunk += 1
        before = counter.mark() if counter is not None else 0
        base = sent

        def progress(done: int) -> None:
            if on_progress is not None:
                on_progress(base + done)

        result = await run_open_loop(client, plan, duration_s=seconds, on_progress=progress)
        cold = counter.count(before, counter.mark()) if counter is not None else None
        sent += len(plan)
        intervals.append(_interval(phase, at, seconds, offered, result.recorder, cold))
        recorders.append(result.recorder)
        at += seconds

    for fraction in RAMP if cfg.ramp_s > 0 else ():
        await drive("ramp", rate * fraction, cfg.ramp_s / len(RAMP))
    steady, reason = False, "no interval held"
    while True:
        await drive("hold", rate, cfg.interval_s)
        noun = counter.noun if counter is not None else "cold starts"
        steady, reason = judge([i for i in intervals if i.phase == "hold"], cfg, noun)
        if steady:
            break
        if time.monotonic() - started + cfg.interval_s > cfg.max_s:
            reason = f"time limit ({cfg.max_s:g} s) reached without a steady state: {reason}"
            break
    stable = recorders[-cfg.stable :] if steady else []
    together = Recorder(measure_from=float("-inf"))
    for recorder in stable:
        together.absorb(recorder)
    return Settling(
        steady=steady,
        seconds=round(time.monotonic() - started, 2),
        ramp_s=cfg.ramp_s,
        max_s=cfg.max_s,
        reason=reason,
        signal=counter.signal if counter is not None else signal,
        intervals=tuple(intervals),
        steady_latency_ms=percentile_summary(together.merged()) if steady else None,
        steady_requests=together.count,
        steady_errors=together.error_count,
        source=source,
    )


async def first_minute(
    client: Http,
    ctx: CafeContext,
    rate: float,
    seconds: float,
    interval_s: float,
    counter: ColdStartCounter | None,
    signal: str,
    idle: str,
    throttles: Callable[[], Awaitable[int | None]] | None = None,
    seed_offset: int = 0,
    on_progress: Callable[[float], None] | None = None,
    source: str = MEASURED_HERE,
) -> FirstMinute:
    """`rate` offered at once for `seconds`, cut into intervals of `interval_s` by intended send time.

    `throttles` reads a throttle counter where one exists (the local emulator's); otherwise the
    front door's own 429s are the throttles the client saw.
    """
    count = max(1, round(seconds / interval_s))
    width = seconds / count
    buckets = [Recorder(measure_from=float("-inf")) for _ in range(count)]
    marks: list[int] = []

    def sample(s: Sample) -> None:
        index = min(count - 1, max(0, int(s.at_s // width)))
        buckets[index].record(s.operation, s.at_s, s.at_s + s.latency_s, s.status, s.ok, s.cause)

    async def mark_boundaries() -> None:
        if counter is None:
            return
        for _ in range(count):
            marks.append(counter.mark())
            await asyncio.sleep(width)

    throttled_before = await throttles() if throttles is not None else None
    marker = asyncio.get_running_loop().create_task(mark_boundaries())
    plan = build_plan(ctx, rate, seconds, seed_offset=seed_offset)
    result = await run_open_loop(client, plan, duration_s=seconds, on_progress=on_progress, on_sample=sample)
    await marker
    cold: list[int | None] = [None] * count
    if counter is not None:
        marks.append(counter.mark())
        cold = [counter.count(marks[i], marks[i + 1]) for i in range(count)]
    throttled_after = await throttles() if throttles is not None else None
    window = combined_summary([result])
    causes = dict(window.errors_by_cause)
    if throttled_before is not None and throttled_after is not None:
        throttled: int | None = throttled_after - throttled_before
    else:
        throttled = sum(n for c, n in causes.items() if c == "front_door:429")
    intervals = tuple(
        _interval("first minute", i * width, width, rate, bucket, cold[i]) for i, bucket in enumerate(buckets)
    )
    met = None if any(c is None for c in cold) else sum(c or 0 for c in cold)
    return FirstMinute(
        seconds=seconds,
        rate_rps=rate,
        requests=window.requests,
        errors=window.errors,
        errors_by_cause=causes,
        latency_ms=window.latency_ms,
        cold_starts=met,
        cold_start_signal=counter.signal if counter is not None else signal,
        throttles=throttled,
        intervals=intervals,
        idle=idle,
        source=source,
    )
