"""Does the verdict survive its assumptions? The decision rerun at each end of every assumed range.

The decision is the cost model's recommendation: the cheapest runtime and mode (push or polling)
whose request p99 meets the SLO and whose screens show a change within the profile's notice-delay
target; an answer reads "lambda push". Two kinds of input carry a range:

- the café's assumptions in the cost profile: the waits, the share of the wait with the tab
  visible, the screens open (``traffic``): each end re-derives the traffic and reprices;
- the AWS overheads of kind *assumption* (API Gateway's and the ALB's added latency, DynamoDB's
  latency curve...): each end moves the figure's median there (its spread kept) and reprojects
  every runtime's p99 from the run's own measurements.

An input whose two ends give the same answer as the base cannot flip the verdict within its range;
one that does is named, with the answer at each end.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from compare.aws_model.overheads import Overheads, OverheadsError
from compare.cost import estimate
from compare.cost.prices import PriceError
from compare.cost.profile import ProfileError, parse
from compare.modeled import projection
from compare.results import RunResults, SensitivityRow, VerdictRecord

Decide = Callable[[dict[str, Any], Mapping[str, float]], str]


@dataclass(frozen=True)
class Swing:
    """One input moved to each end of its range, and the verdict at each end."""

    input: str
    kind: str  # "café assumption" or "AWS overhead (range assumed)"
    low: float
    high: float
    answer_at_low: str
    answer_at_high: str
    base: str

    @property
    def flips(self) -> bool:
        return self.answer_at_low != self.base or self.answer_at_high != self.base

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
            "answer_at_low": self.answer_at_low,
            "answer_at_high": self.answer_at_high,
            "base": self.base,
            "flips": self.flips,
        }


def answer(recommendation: Mapping[str, Any]) -> str:
    """The recommendation in two words: ``"<runtime> <mode>"``, or ``"none"``."""
    runtime = recommendation.get("runtime")
    return f"{runtime} {recommendation.get('mode')}" if runtime else "none"


def decide(raw_profile: dict[str, Any], p99_ms: Mapping[str, float]) -> str:
    """The runtime and mode the cost model recommends for ``raw_profile`` with these p99s."""
    raw = copy.deepcopy(raw_profile)
    if p99_ms:
        raw["p99_ms"] = dict(p99_ms)
    result = estimate(raw, with_breakeven=False)
    return answer(result["recommendation"])


def close_combinations(recommendation: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every runtime × mode the recommendation priced, the pick first, each with its gap to the
    pick and whether it is close (within ``recommend.CLOSE_SHARE``) and works (SLO and target)."""
    rows = list(recommendation.get("combinations", []))
    pick = next(
        (
            r
            for r in rows
            if r["runtime"] == recommendation.get("runtime") and r["mode"] == recommendation.get("mode")
        ),
        None,
    )
    if pick is None:
        return []
    base = float(pick["monthly_usd"])
    out = []
    for row in sorted(rows, key=lambda r: (r is not pick, float(r["monthly_usd"]))):
        out.append(
            {
                "answer": f"{row['runtime']} {row['mode']}",
                "monthly_usd": row["monthly_usd"],
                "gap_share": round((float(row["monthly_usd"]) - base) / base, 4) if base else 0.0,
                "notice_p99_ms": row["notice_p99_ms"],
                "works": row.get("meets_slo") is not False and row.get("meets_notice_target") is not False,
                "close": bool(row.get("close")),
                "pick": row is pick,
            }
        )
    return out


def _set(raw: dict[str, Any], dotted: str, value: float) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    node = out
    *parents, leaf = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return out


def cafe_ranges(raw_profile: dict[str, Any]) -> list[tuple[str, float, float]]:
    """The café's assumptions with their ranges, as the profile gives them (or defaults)."""
    shape = parse(raw_profile).shape
    ranges = [
        (f"traffic.{name}", assumed.low, assumed.high)
        for name, assumed in (
            ("wait_to_ready_min", shape.wait_to_ready_min),
            ("ready_to_pickup_min", shape.ready_to_pickup_min),
            ("visible_share", shape.visible_share),
        )
    ]
    # Screens: none at all, to twice as many as the profile says (at least one).
    ranges.append(("traffic.boards", 0.0, float(max(1, 2 * shape.boards))))
    ranges.append(("traffic.barista_tablets", 0.0, float(max(1, 2 * shape.barista_tablets))))
    return ranges


def cafe_swings(
    raw_profile: dict[str, Any], p99_ms: Mapping[str, float], decide_fn: Decide = decide
) -> list[Swing]:
    """Each café assumption at both ends of its range, the latency inputs held."""
    base = decide_fn(raw_profile, p99_ms)
    swings = []
    for key, low, high in cafe_ranges(raw_profile):
        at = {}
        for end in (low, high):
            value: Any = int(end) if key.endswith(("boards", "tablets")) else end
            at[end] = decide_fn(_set(raw_profile, key, value), p99_ms)
        swings.append(Swing(key, "café assumption", low, high, at[low], at[high], base))
    return swings


def overhead_swings(
    raw_profile: dict[str, Any],
    p99_at: Callable[[str, float], Mapping[str, float]],
    figures: Mapping[str, tuple[float, float]],
    base_p99: Mapping[str, float],
    decide_fn: Decide = decide,
) -> list[Swing]:
    """Each AWS overhead assumption at both ends of its range: ``p99_at(name, median)`` reprojects
    every runtime's p99 with that figure's median moved there; the café's cost held."""
    base = decide_fn(raw_profile, base_p99)
    swings = []
    for name, (low, high) in sorted(figures.items()):
        answers = [decide_fn(raw_profile, p99_at(name, end)) for end in (low, high)]
        swings.append(Swing(name, "AWS overhead (range assumed)", low, high, answers[0], answers[1], base))
    return swings


def for_run(results: RunResults, overheads: Overheads) -> VerdictRecord:
    """The sensitivity of a run's verdict: the café's assumptions on the cost profile the run
    priced, and every AWS overhead figure with a range, reprojected from the run's measurements."""
    cost = results.cost
    if cost is None or not cost.available or cost.profile is None:
        return VerdictRecord(note="the cost model was not run, so there is no verdict to test")
    raw = dict(cost.profile)
    base_p99 = {name: float(p) for name, p in (raw.get("p99_ms") or {}).items()}
    try:
        swings = cafe_swings(raw, base_p99)
        # Every figure that carries a range: the assumptions, and the documented bounds (DynamoDB's
        # "single-digit milliseconds") whose curve inside the bound is itself assumed.
        figures = {
            name: figure.range
            for name, figure in overheads.figures.items()
            if figure.range is not None and figure.value.get("dist") == "lognormal"
        }

        def p99_at(name: str, median: float) -> dict[str, float]:
            moved = overheads.with_median(name, median)
            projected = {}
            for runtime, entry in results.runtimes.items():
                shifted = projection(runtime, entry, moved)
                if shifted is not None:
                    projected[runtime] = round(shifted.p99_ms, 2)
            return {**base_p99, **projected}

        swings += overhead_swings(raw, p99_at, figures, base_p99)
    except (ProfileError, PriceError, OverheadsError) as exc:
        return VerdictRecord(note=f"not tested: {type(exc).__name__}: {exc}")
    rows = tuple(SensitivityRow(**swing.to_dict()) for swing in swings)
    return VerdictRecord(sensitivity=rows, note="modeled: the decision rerun at each end of each range")
