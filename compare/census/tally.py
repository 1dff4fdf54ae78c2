"""Counts → the census document. Every rate is a count divided by the page time it was counted in."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compare.census import CENSUS_VERSION
from compare.census.scenarios import Outcome
from compare.census.tab import Fetched, Recording

MINUTE_MS = 60_000
HOUR_MS = 3_600_000

# Which phases of a scenario feed which figure (scenarios.py names them).
CUSTOMER_FIXED = ("load", "browse", "place")
CUSTOMER_VISIBLE = ("visible",)
CUSTOMER_HIDDEN = ("hidden", "wake")


@dataclass(frozen=True)
class Runs:
    customers: Sequence[Outcome]
    barista: Outcome
    board: Outcome

    def all(self) -> list[Outcome]:
        return [*self.customers, self.barista, self.board]


def _counts(recs: Iterable[Recording], phases: Sequence[str]) -> Counter[str]:
    return Counter(s.route for rec in recs for s in rec.seen if s.phase in phases)


def _minutes(recs: Iterable[Recording], phases: Sequence[str], unit_ms: int) -> float:
    return sum(rec.phase_ms[p] for rec in recs for p in phases) / unit_ms


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 3)


def _per(counts: Counter[str], units: float) -> dict[str, float | int]:
    if units <= 0:
        raise ValueError("no page time to divide by")
    return {route: _number(n / units) for route, n in sorted(counts.items())}


def _periods_ms(
    fetched: Iterable[Fetched], route: str, phases: Sequence[str], *, by_window: bool
) -> list[int]:
    """Gaps between successive distinct request times of ``route`` (within each unbroken window)."""
    times: dict[int, set[int]] = defaultdict(set)
    for f in fetched:
        if f.route == route and f.phase in phases:
            times[f.window if by_window else 0].add(f.at_ms)
    gaps: list[int] = []
    for stamps in times.values():
        ordered = sorted(stamps)
        gaps += [b - a for a, b in itertools.pairwise(ordered)]
    return gaps


def interval_s(
    recs: Iterable[Recording], route: str, phases: Sequence[str], *, by_window: bool = True
) -> float:
    gaps = [g for rec in recs for g in _periods_ms(rec.fetched, route, phases, by_window=by_window)]
    if not gaps:
        raise ValueError(f"no two successive {route} requests in {phases}")
    return round(statistics.median(gaps) / 1000, 3)


def intervals(runs: Runs) -> dict[str, float]:
    customers = [o.recording for o in runs.customers]
    every_phase = ("load", "browse", "place", "visible", "hidden", "wake", "tail", "open", "periodic", "work")
    return {
        "tracking_visible": interval_s(customers, "GET /orders/{order_id}", CUSTOMER_VISIBLE),
        "tracking_hidden": interval_s(customers, "GET /orders/{order_id}", ("hidden",)),
        "barista": interval_s([runs.barista.recording], "GET /orders", ("periodic",)),
        "board": interval_s([runs.board.recording], "GET /pickup", ("periodic",)),
        "health": interval_s([o.recording for o in runs.all()], "GET /health", every_phase, by_window=False),
    }


def _customer(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    recs = [o.recording for o in outcomes]
    orders = sum(o.orders for o in outcomes)
    return {
        "per_order": _per(_counts(recs, CUSTOMER_FIXED), orders),
        "per_visible_minute": _per(
            _counts(recs, CUSTOMER_VISIBLE), _minutes(recs, CUSTOMER_VISIBLE, MINUTE_MS)
        ),
        "per_hidden_minute": _per(_counts(recs, CUSTOMER_HIDDEN), _minutes(recs, ("hidden",), MINUTE_MS)),
    }


def _screen(outcome: Outcome, *, work: bool) -> dict[str, Any]:
    rec = outcome.recording
    out: dict[str, Any] = {
        "per_open": _per(_counts([rec], ("open",)), 1),
        "per_open_hour": _per(_counts([rec], ("periodic",)), _minutes([rec], ("periodic",), HOUR_MS)),
    }
    if work:
        out["per_order"] = _per(_counts([rec], ("work",)), outcome.orders)
    return out


def _by_status(recs: Iterable[Recording]) -> dict[str, dict[str, int]]:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for rec in recs:
        for a in rec.answered:
            table[a.route][str(a.status)] += 1
    return {route: dict(sorted(table[route].items())) for route in sorted(table)}


def _scenario(rec: Recording) -> dict[str, Any]:
    counts = Counter(a.route for a in rec.answered)
    statuses = Counter((a.route, a.status) for a in rec.answered)
    if sum(counts.values()) != len(rec.seen):
        raise ValueError(f"{rec.name}: {len(rec.seen)} requests seen, {sum(counts.values())} answered")
    requests = [
        {"method": route.split(" ", 1)[0], "route": route.split(" ", 1)[1], "status": status, "count": n}
        for (route, status), n in sorted(statuses.items())
    ]
    return {"name": rec.name, "page_minutes": round(rec.page_ms / MINUTE_MS, 3), "requests": requests}


def census(runs: Runs, provenance: Mapping[str, str]) -> dict[str, Any]:
    """The census document (compare/cost/census.json)."""
    recs = [o.recording for o in runs.all()]
    return {
        "census_version": CENSUS_VERSION,
        "provenance": dict(provenance),
        "intervals_s": intervals(runs),
        "customer": _customer(runs.customers),
        "barista": _screen(runs.barista, work=True),
        "board": _screen(runs.board, work=False),
        "by_status": _by_status(recs),
        "scenarios": [_scenario(rec) for rec in recs],
    }
