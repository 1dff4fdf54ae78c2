"""Counts → the census document. Every rate is a count divided by the page time it was counted in.

Two runs of the same scenarios make one census: the pages with push unavailable (``GET /live``
answering none: they poll, the figures at the top level, which the request mix of ``make compare``
replays) and the pages following a café that pushes (``push``: their requests, the streams they
hold and the messages those streams carry).
"""

from __future__ import annotations

import itertools
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from compare.census import CENSUS_VERSION, pagejs
from compare.census.scenarios import Outcome
from compare.census.tab import Fetched, Recording

MINUTE_MS = 60_000
HOUR_MS = 3_600_000

# Which phases of a scenario feed which figure (scenarios.py names them).
CUSTOMER_FIXED = ("load", "browse", "place")
CUSTOMER_VISIBLE = ("visible",)
CUSTOMER_HIDDEN = ("hidden", "wake")
CUSTOMER_TRACKING = (*CUSTOMER_VISIBLE, *CUSTOMER_HIDDEN)
SCREEN_OPEN = ("open",)
SCREEN_ORDERS = ("periodic", "work")
# How each push figure was obtained: counted from the pages, or derived (not countable here).
PUSH_HOW = {
    "requests": "counted in the browser, as for polling",
    "streams": "counted: the live streams the pages opened (page time held) and the data messages "
    "the server wrote to them, by channel",
    "feed_changes_per_order": "counted: events the order book's change feed gained per order",
    "heartbeat_s": "derived, not counted: the server's heartbeat setting (cafe.live.hub.HEARTBEAT_SECONDS, "
    "a comment line after that long without a message); the server's clock runs in real time while "
    "the pages' runs ahead, so the census cannot count them",
    "websocket_ping_s": "read from the pages' source (api.js WEBSOCKET_PING_MS), not counted: the census "
    "serves the stream as server-sent events; over API Gateway's WebSocket API (Lambda) the pages "
    'send {"action":"ping"} this often and subscribe with one message per connection',
}


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


EVERY_PHASE = ("load", "browse", "place", "visible", "hidden", "wake", "tail", "open", "periodic", "work")


def intervals(runs: Runs) -> dict[str, float]:
    customers = [o.recording for o in runs.customers]
    return {
        "tracking_visible": interval_s(customers, "GET /orders/{order_id}", CUSTOMER_VISIBLE),
        "tracking_hidden": interval_s(customers, "GET /orders/{order_id}", ("hidden",)),
        "barista": interval_s([runs.barista.recording], "GET /orders", ("periodic",)),
        "board": interval_s([runs.board.recording], "GET /pickup", ("periodic",)),
        "health": interval_s([o.recording for o in runs.all()], "GET /health", EVERY_PHASE, by_window=False),
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


def _pushed(recs: Iterable[Recording], phases: Sequence[str]) -> int:
    return sum(1 for rec in recs for p in rec.pushed if p.phase in phases)


def _held_ms(rec: Recording) -> int:
    """Page time the recording's streams were open (one still open held until the scenario ended)."""
    return sum((rec.page_ms if h.closed_ms is None else h.closed_ms) - h.opened_ms for h in rec.held)


def _channel_of(outcomes: Sequence[Outcome]) -> str:
    channels = {p.channel for o in outcomes for p in o.recording.pushed}
    if len(channels) != 1:
        names = [o.recording.name for o in outcomes]
        raise ValueError(f"{names}: pushed on channels {sorted(channels)}, not one")
    return channels.pop()


def _customer_stream(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The tracking page's stream: opened once per order, held from placement until pickup."""
    recs = [o.recording for o in outcomes]
    orders = sum(o.orders for o in outcomes)
    tracked = sum(rec.phase_ms[p] for rec in recs for p in CUSTOMER_TRACKING)
    if _pushed(recs, ("tail",)):
        raise ValueError("a customer's stream carried messages after pickup")
    return {
        "channel": _channel_of(outcomes),
        "per_order": _number(sum(len(rec.held) for rec in recs) / orders),
        "held_share_of_tracking": _number(sum(_held_ms(rec) for rec in recs) / tracked),
        "messages_on_subscribe": _number(_pushed(recs, CUSTOMER_FIXED) / orders),
        "messages_per_order": _number(_pushed(recs, CUSTOMER_TRACKING) / orders),
    }


def _screen_stream(outcome: Outcome) -> dict[str, Any]:
    """A screen's stream: opened with the page, held while it is open, a message per change shown."""
    rec = outcome.recording
    first = min((h.opened_ms for h in rec.held), default=rec.page_ms)
    return {
        "channel": _channel_of([outcome]),
        "per_open": len(rec.held),
        "held_share_of_open": _number(_held_ms(rec) / max(1, rec.page_ms - first)),
        "messages_on_subscribe": _pushed([rec], SCREEN_OPEN),
        "messages_per_order": _number(_pushed([rec], SCREEN_ORDERS) / outcome.orders),
    }


def _push(runs: Runs, runtime: str, heartbeat_s: float) -> dict[str, Any]:
    recs = [o.recording for o in runs.all()]
    if not all(rec.held for rec in recs):
        raise ValueError(f"push run: {[r.name for r in recs if not r.held]} opened no live stream")
    return {
        "transport": "sse",
        "runtime": runtime,
        "how": dict(PUSH_HOW),
        "intervals_s": {"health": interval_s(recs, "GET /health", EVERY_PHASE, by_window=False)},
        "customer": _customer(runs.customers),
        "barista": _screen(runs.barista, work=True),
        "board": _screen(runs.board, work=False),
        "streams": {
            "customer": _customer_stream(runs.customers),
            "barista": _screen_stream(runs.barista),
            "board": _screen_stream(runs.board),
        },
        "feed_changes_per_order": _number(
            sum(o.changes for o in runs.all()) / sum(o.orders for o in runs.all())
        ),
        "heartbeat_s": heartbeat_s,
        "websocket_ping_s": pagejs.websocket_ping_ms() / 1000,
        "by_status": _by_status(recs),
        "scenarios": [_scenario(rec) for rec in recs],
    }


def census(
    polling: Runs,
    push: Runs,
    provenance: Mapping[str, str],
    runtimes: Mapping[str, str],
    heartbeat_s: float,
) -> dict[str, Any]:
    """The census document (compare/cost/census.json): the polling pages at the top level (as the
    cost model and the load generator read them), the pushed pages under ``push``."""
    recs = [o.recording for o in polling.all()]
    return {
        "census_version": CENSUS_VERSION,
        "provenance": {**provenance, "runtime": runtimes["polling"]},
        "mode": "polling",
        "intervals_s": intervals(polling),
        "customer": _customer(polling.customers),
        "barista": _screen(polling.barista, work=True),
        "board": _screen(polling.board, work=False),
        "by_status": _by_status(recs),
        "scenarios": [_scenario(rec) for rec in recs],
        "push": _push(push, runtimes["push"], heartbeat_s),
    }
