"""Capacity search: step the arrival rate up until p99 passes the SLO or errors appear.

The highest sustainable rate is the last step that kept p99 within the SLO with no unexpected
errors and delivered at least `min_delivery` of the requests it sent within the window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from compare.results import Capacity, CapacityStep, SloRecord, Verdict, Window


@dataclass(frozen=True)
class Slo:
    p99_ms: float = 100.0
    max_error_rate: float = 0.0
    min_delivery: float = 0.9

    def verdict(self, step: Window) -> Verdict:
        p99 = step.latency_ms.p99
        if step.requests == 0:
            return Verdict(False, "no requests completed")
        if step.error_rate > self.max_error_rate:
            return Verdict(False, f"errors {dict(step.errors_by_status)}")
        if p99 > self.p99_ms:
            return Verdict(False, f"p99 {p99:.1f} ms > {self.p99_ms:g} ms")
        offered = step.offered_rps or step.target_rate_rps
        if step.throughput_rps < self.min_delivery * offered:
            return Verdict(False, f"delivered {step.throughput_rps:.0f}/s of {offered:.0f}/s sent")
        return Verdict(True, "ok")

    @property
    def record(self) -> SloRecord:
        return SloRecord(self.p99_ms, self.max_error_rate, self.min_delivery)


RETRY_OFFSET = 1000


def judged(step: Window, verdict: Verdict, first_attempt: CapacityStep | None = None) -> CapacityStep:
    fields = {f.name: getattr(step, f.name) for f in dataclasses.fields(Window)}
    return CapacityStep(**fields, verdict=verdict, first_attempt=first_attempt)


async def search(
    rates: Sequence[float],
    run_step: Callable[[int, float], Awaitable[Window]],
    slo: Slo,
    confirm: bool = True,
) -> Capacity:
    """Run `run_step(index, rate)` for each rate in order until one fails the SLO.

    With `confirm`, a failing step is run once more (new seed) and only a second failure stops
    the search: on a shared machine one scheduler hiccup in a few-second step can push its p99
    over the SLO. The first attempt is kept in the step as `first_attempt`.
    """
    steps: list[CapacityStep] = []
    sustainable: float | None = None
    stop_reason = "every step passed: the limit lies above the highest step"
    for index, rate in enumerate(rates):
        window = await run_step(index, rate)
        verdict = slo.verdict(window)
        first = None
        if not verdict.ok and confirm:
            first = judged(replace(window, by_operation={}), verdict)
            window = await run_step(index + RETRY_OFFSET, rate)
            verdict = slo.verdict(window)
        shown = verdict
        if first is not None and not verdict.ok:
            shown = Verdict(False, f"{verdict.reason} (confirmed: first try {first.verdict.reason})")
        steps.append(judged(window, shown, first))
        if not verdict.ok:
            stop_reason = f"{rate:g}/s: {verdict.reason}"
            break
        sustainable = rate
    return Capacity(
        slo=slo.record,
        steps=tuple(steps),
        sustainable_rps=sustainable,
        limit_found=len(steps) < len(rates) or not steps[-1].verdict.ok,
        stopped=stop_reason,
    )
