"""Capacity search: step the arrival rate up until p99 passes the SLO or errors appear.

The highest sustainable rate is the last step that kept p99 within the SLO with no unexpected
errors and delivered at least `min_delivery` of the requests it sent within the window.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Slo:
    p99_ms: float = 100.0
    max_error_rate: float = 0.0
    min_delivery: float = 0.9

    def verdict(self, step: dict[str, Any]) -> tuple[bool, str]:
        p99 = step["latency_ms"]["p99"]
        if step["requests"] == 0:
            return False, "no requests completed"
        if step["error_rate"] > self.max_error_rate:
            return False, f"errors {step['errors_by_status']}"
        if p99 > self.p99_ms:
            return False, f"p99 {p99:.1f} ms > {self.p99_ms:g} ms"
        offered = step.get("offered_rps") or step["target_rate_rps"]
        if step["throughput_rps"] < self.min_delivery * offered:
            return False, f"delivered {step['throughput_rps']:.0f}/s of {offered:.0f}/s sent"
        return True, "ok"


def sustainable_text(capacity: dict[str, Any] | None) -> str:
    """'600', '≥ 2000' when no step failed (the limit is above the ladder), or '–'."""
    if not capacity or capacity.get("sustainable_rps") is None:
        return "–"
    prefix = "" if capacity.get("limit_found", True) else "≥ "
    return f"{prefix}{capacity['sustainable_rps']:g}"


RETRY_OFFSET = 1000


async def search(
    rates: Sequence[float],
    run_step: Callable[[int, float], Awaitable[dict[str, Any]]],
    slo: Slo,
    confirm: bool = True,
) -> dict[str, Any]:
    """Run `run_step(index, rate)` for each rate in order until one fails the SLO.

    With `confirm`, a failing step is run once more (new seed) and only a second failure stops
    the search: on a shared machine one scheduler hiccup in a few-second step can push its p99
    over the SLO. The first attempt is kept in the step as `first_attempt`.
    """
    steps: list[dict[str, Any]] = []
    sustainable: float | None = None
    stop_reason = "every step passed: the limit lies above the highest step"
    for index, rate in enumerate(rates):
        step = await run_step(index, rate)
        ok, why = slo.verdict(step)
        step["verdict"] = {"ok": ok, "reason": why}
        if not ok and confirm:
            first = step
            step = await run_step(index + RETRY_OFFSET, rate)
            ok, why = slo.verdict(step)
            step["verdict"] = {
                "ok": ok,
                "reason": why if ok else f"{why} (confirmed: first try {first['verdict']['reason']})",
            }
            step["first_attempt"] = {k: v for k, v in first.items() if k != "by_operation"}
        steps.append(step)
        if not ok:
            stop_reason = f"{rate:g}/s: {why}"
            break
        sustainable = rate
    return {
        "slo": {"p99_ms": slo.p99_ms, "max_error_rate": slo.max_error_rate, "min_delivery": slo.min_delivery},
        "steps": steps,
        "sustainable_rps": sustainable,
        "limit_found": len(steps) < len(rates) or not steps[-1]["verdict"]["ok"],
        "stopped": stop_reason,
    }
