"""What the café sends: requests derived from the census of its own pages, never typed.

The census (``compare/cost/census.json``, written by ``make census``, read by ``census_file``)
counted every request the real pages make in a real browser, with push unavailable (they poll)
and with push working (they follow a stream): a customer's fixed requests per order and the
requests per minute of waiting (tab visible or hidden), the barista tablet's and the pickup
board's requests per open hour. A profile describes the café instead — orders a day, the wait
from placement to READY and from READY to pickup, the share of the wait with the tab visible, the
screens open and their hours — and this module multiplies the two, in the mode the café runs:

    per order   = customer fixed + wait × (visible × per visible minute + hidden × per hidden minute)
                  + the barista page's requests per order worked
    per day     = orders × per order + screens × (opening once + hours open × per open hour)
    per month   = per day × open days

In push mode the streams the pages hold and the messages they carry come with it (``live``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from compare.cost.census_file import (
    CENSUS,
    MODES,
    POLLING,
    PUSH,
    Census,
    CensusError,
    load_census,
)
from compare.cost.live import Live, derive_live

__all__ = [
    "CENSUS",
    "MODES",
    "POLLING",
    "PUSH",
    "Assumed",
    "CafeShape",
    "Census",
    "CensusError",
    "Traffic",
    "derive",
    "load_census",
]
SOURCES = ("customers", "boards", "baristas")


@dataclass(frozen=True)
class Assumed:
    """An assumption of the profile: its value and the range the verdict is tested across."""

    value: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class CafeShape:
    """How the café uses its pages: the profile's inputs for the traffic."""

    wait_to_ready_min: Assumed
    ready_to_pickup_min: Assumed
    visible_share: Assumed
    boards: int
    barista_tablets: int
    screen_hours: float  # hours a day each screen is open

    @property
    def tracked_minutes(self) -> float:
        """A customer's tracking page follows the order (polls, or holds its stream) from placement
        until pickup (COMPLETED)."""
        return self.wait_to_ready_min.value + self.ready_to_pickup_min.value


def _scaled(rates: Mapping[str, float], factor: float) -> Counter[str]:
    return Counter({route: count * factor for route, count in rates.items()})


@dataclass(frozen=True)
class Traffic:
    """The café's requests in a month, by who sends them and by route; in push mode also the
    streams the pages hold (``live``)."""

    mode: str
    monthly_orders: float
    by_source: dict[str, float]
    by_route: dict[str, float]
    source: str
    customer_per_order: float
    screens_per_open_day: float
    open_days: float
    intervals_s: dict[str, float] = field(default_factory=dict)  # the polling pages' (the fallback)
    notes: list[str] = field(default_factory=list)
    live: Live | None = None

    def notice_delay_s(self) -> dict[str, dict[str, float]]:
        """How long a change takes to appear on each screen while it polls: the next poll comes
        uniformly within one interval (mean half of it, at worst all of it), plus the request.
        (By push the delay is the delivery path's, which differs per runtime: ``notice``.)"""
        screens = {
            "customer, tab visible": "tracking_visible",
            "customer, tab hidden": "tracking_hidden",
            "barista": "barista",
            "board": "board",
        }
        return {
            screen: {"mean": self.intervals_s[key] / 2, "max": self.intervals_s[key]}
            for screen, key in screens.items()
            if key in self.intervals_s
        }

    @property
    def requests_per_month(self) -> float:
        return sum(self.by_source.values())

    @property
    def requests_per_order(self) -> float:
        return self.requests_per_month / self.monthly_orders if self.monthly_orders else 0.0

    @property
    def customer_share(self) -> float:
        """The part of the requests that follows the orders (the rest is screens, flat while open)."""
        total = self.requests_per_month
        return (total - self.by_source["boards"] - self.by_source["baristas"]) / total if total else 0.0

    def scaled_to(self, monthly_requests: float) -> Traffic:
        """The same mix at another total (a what-if; the orders and the streams stay as they are)."""
        k = monthly_requests / self.requests_per_month if self.requests_per_month else 0.0
        return replace(
            self,
            by_source={name: count * k for name, count in self.by_source.items()},
            by_route={route: count * k for route, count in self.by_route.items()},
            customer_per_order=self.customer_per_order * k,
            screens_per_open_day=self.screens_per_open_day * k,
            notes=[*self.notes, f"scaled to {monthly_requests:,.0f} requests a month (a what-if)"],
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "mode": self.mode,
            "requests_per_month": round(self.requests_per_month, 1),
            "requests_per_order": round(self.requests_per_order, 2),
            "by_source": {k: round(v, 1) for k, v in self.by_source.items()},
            "by_route": {k: round(v, 1) for k, v in sorted(self.by_route.items(), key=lambda kv: -kv[1])},
            "customer_requests_per_order": round(self.customer_per_order, 2),
            "screen_requests_per_open_day": round(self.screens_per_open_day, 1),
            "source": self.source,
            "label": "modeled from the census (measured here) and the profile's café",
            "notes": list(self.notes),
        }
        if self.mode == POLLING:
            out["notice_delay_s"] = {
                **self.notice_delay_s(),
                "label": "modeled from the census's polling intervals (measured here);"
                " add the request's own time",
            }
        if self.live is not None:
            out["live"] = self.live.to_dict()
        return out


def derive(
    census: Census, shape: CafeShape, monthly_orders: float, open_days: float, mode: str = POLLING
) -> Traffic:
    """The month's requests for ``monthly_orders`` orders over ``open_days`` days, in ``mode``."""
    rates = census.rates(mode)
    visible = shape.visible_share.value
    minutes = shape.tracked_minutes
    per_order = (
        _scaled(rates.customer_per_order, 1.0)
        + _scaled(rates.customer_per_visible_minute, minutes * visible)
        + _scaled(rates.customer_per_hidden_minute, minutes * (1.0 - visible))
    )
    # One screen's open day: opening the page once, then what it sends through the hours it is open.
    tablet_day = _scaled(rates.barista_per_open, 1.0) + _scaled(
        rates.barista_per_open_hour, shape.screen_hours
    )
    board_day = _scaled(rates.board_per_open, 1.0) + _scaled(rates.board_per_open_hour, shape.screen_hours)
    screens_day = _scaled(tablet_day, shape.barista_tablets) + _scaled(board_day, shape.boards)
    customers = _scaled(per_order, monthly_orders)
    baristas = _scaled(rates.barista_per_order, monthly_orders) + _scaled(
        tablet_day, shape.barista_tablets * open_days
    )
    boards = _scaled(board_day, shape.boards * open_days)
    by_route: Counter[str] = Counter()
    for part in (customers, baristas, boards):
        by_route.update(part)
    screens_daily = sum(screens_day.values())
    live = None
    if mode == PUSH:
        assert census.push is not None  # census.rates(PUSH) refused a census without it
        live = derive_live(census.push, shape, monthly_orders, open_days)
    follows = "holds its stream" if mode == PUSH else "polls"
    return Traffic(
        mode=mode,
        monthly_orders=monthly_orders,
        by_source={
            "customers": sum(customers.values()),
            "boards": sum(boards.values()),
            "baristas": sum(baristas.values()),
        },
        by_route=dict(by_route),
        source=census.source + (f"; push: {census.push.runtime}" if live is not None and census.push else ""),
        customer_per_order=sum(per_order.values()),
        screens_per_open_day=screens_daily,
        open_days=open_days,
        intervals_s=dict(census.intervals_s),
        notes=[
            f"a customer's page {follows} for {minutes:g} min ({shape.wait_to_ready_min.value:g} to READY + "
            f"{shape.ready_to_pickup_min.value:g} to pickup), {visible:.0%} of it with the tab visible",
            f"{shape.boards} board(s) and {shape.barista_tablets} barista tablet(s) open "
            f"{shape.screen_hours:g} h a day",
        ],
        live=live,
    )
