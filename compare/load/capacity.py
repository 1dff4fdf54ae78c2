"""Capacity search: step the arrival rate up until p99 passes the SLO or errors appear.

The highest sustainable rate is the last step that kept p99 within the SLO with no unexpected
errors and delivered at least `min_delivery` of the requests it sent within the window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from compare.results import Capacity, CapacityStep, SloRecord, Verdict, Window

RETRY_OFFSET = 1000
# The generator dispatched late: its p99 send lag above this means the step measured the generator.
GENERATOR_LAG_MS = 20.0
STORE_BUSY = "503"  # the API's store_busy: SQLite locked or DynamoDB conflicting, retried out


def failed(step: Window, reason: str) -> Verdict:
    """A failing verdict with what limited the step: the generator, the store or the runtime."""
    errors = {str(k): v for k, v in step.errors_by_status.items()}
    if step.send_lag_ms.p99 > GENERATOR_LAG_MS:
        return Verdict(
            False,
            f"{reason} — limited by the load generator (send lag p99 {step.send_lag_ms.p99:.0f} ms)",
            "generator",
        )
    if errors and set(errors) == {STORE_BUSY}:
        return Verdict(False, f"{reason} — limited by the store (503 store_busy), not the runtime", "store")
    return Verdict(False, reason)


@dataclass(frozen=True)
class Slo:
    p99_ms: float = 100.0
    max_error_rate: float = 0.0
    min_delivery: float = 0.9

    def verdict(self, step: Window) -> Verdict:
        p99 = step.latency_ms.p99
        if step.requests == 0:
            return failed(step, "no requests completed")
        if step.error_rate > self.max_error_rate:
            return failed(step, f"errors {dict(step.errors_by_status)}")
        if p99 > self.p99_ms:
            return failed(step, f"p99 {p99:.1f} ms > {self.p99_ms:g} ms")
        offered = step.offered_rps or step.target_rate_rps
        if step.throughput_rps < self.min_delivery * offered:
            return failed(step, f"delivered {step.throughput_rps:.0f}/s of {offered:.0f}/s sent")
        return Verdict(True, "ok")

    @property
    def record(self) -> SloRecord:
        return SloRecord(self.p99_ms, self.max_error_rate, self.min_delivery)


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
