"""What the café sends, as the load generator replays it: the census of the pages × the cost profile.

The cost model prices the café from ``compare.cost.traffic`` (the census of the real pages and the
profile's café: orders, the wait, the visible share, the screens open). This module reads the very
same census and profile and cuts them into what a load generator can send:

* one **customer visit** per order: the page load (the page, its static files, ``/health``,
  ``/menu``, ``/store``), the placement (``POST /orders`` with an Idempotency-Key) and the
  tracking polls at the page's intervals through the wait, the tab visible for the profile's
  share of every minute; with it the barista's per-order work (a status change through PREPARING,
  READY and COMPLETED, each followed by the page's refresh), so the queue moves;
* the **screens** (barista tablets, pickup boards) as constant-rate streams: each kind's refresh
  (the routes it sends at least once per refresh interval), its slower routes (``/health`` once a
  minute) and its openings, at what the census counts per open hour.

Each part's share of the requests is its share of the profile's month, so a plan at any rate has
the route shares of ``Profile.traffic.by_route``: the measured mix and the priced mix are one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from compare.cost.profile import Profile
from compare.cost.profile import load as load_profile
from compare.cost.traffic import POLLING

# The route templates the pages send (the census's keys) and the operation each one is recorded
# and projected as (compare/aws_model "dynamodb.round_trips" holds each operation's calls).
ROUTE_OPERATIONS: dict[str, str] = {
    "GET /": "static",
    "GET /barista": "static",
    "GET /board": "static",
    "GET /static/{name}": "static",
    "GET /health": "health",
    # Which push transport to use: like /health, a small answer with no store call.
    "GET /live": "health",
    "GET /menu": "menu",
    "GET /store": "store",
    "POST /orders": "place_order",
    "GET /orders/{order_id}": "poll",
    "POST /orders/{order_id}/cancel": "cancel",
    "GET /orders": "barista_list",
    "POST /orders/{order_id}/status": "advance",
    "GET /pickup": "pickup",
}
PLACE = "POST /orders"
POLL = "GET /orders/{order_id}"
CANCEL = "POST /orders/{order_id}/cancel"
ADVANCE = "POST /orders/{order_id}/status"
# Routes that need the visit's order: sent once its placement answered.
ORDER_ROUTES = frozenset({POLL, CANCEL, ADVANCE})
# The barista's transitions of one order, in order (the status each POST asks for).
TRANSITIONS = ("PREPARING", "READY", "COMPLETED")
# The barista page's queue columns: its refresh lists each (GET /orders?status=…&limit=500).
COLUMNS = ("PLACED", "PREPARING", "READY")
# When the barista starts an order, as a share of the wait until READY (the profile gives the wait).
START_SHARE = 0.2


class MixError(ValueError):
    """The census holds a route the generator cannot send, or the profile no orders."""


@dataclass(frozen=True)
class Stream:
    """One screen kind's constant-rate client: ``routes`` sent together every ``interval_s``
    (real seconds, per screen), ``per_month`` such events a month across the café's screens."""

    source: str  # "baristas" or "boards" (Traffic.by_source)
    name: str
    routes: Mapping[str, float]  # requests per event by route (fractions: sent that often)
    interval_s: float
    per_month: float

    @property
    def requests(self) -> float:
        return sum(self.routes.values())


@dataclass(frozen=True)
class CafeMix:
    """The café as the generator sends it; every rate real (not yet time-compressed)."""

    profile: str  # the profile's file
    census: str  # the census's source line (compare.cost.traffic.Census.source)
    monthly_orders: float
    requests_per_month: float
    open_hours_per_month: float
    page_load: Mapping[str, float]  # a visit's requests before it places its order
    at_placement: Mapping[str, float]  # the placement and what the page sends right after it
    per_visible_minute: Mapping[str, float]
    per_hidden_minute: Mapping[str, float]
    barista_per_order: Mapping[str, float]  # the barista's work on one order (its transitions)
    wait_to_ready_s: float
    ready_to_pickup_s: float
    visible_share: float
    streams: tuple[Stream, ...]
    intervals_s: Mapping[str, float]
    profile_by_route: Mapping[str, float]  # Profile.traffic.by_route (requests a month)

    @property
    def tracked_s(self) -> float:
        """A customer's page polls from placement until pickup (COMPLETED)."""
        return self.wait_to_ready_s + self.ready_to_pickup_s

    def visit_routes(self) -> dict[str, float]:
        """One order's requests by route: the customer's and the barista's for it."""
        minutes = self.tracked_s / 60.0
        out: dict[str, float] = {}
        for rates, factor in (
            (self.page_load, 1.0),
            (self.at_placement, 1.0),
            (self.per_visible_minute, minutes * self.visible_share),
            (self.per_hidden_minute, minutes * (1.0 - self.visible_share)),
            (self.barista_per_order, 1.0),
        ):
            for route, count in rates.items():
                out[route] = out.get(route, 0.0) + count * factor
        return out

    def by_route(self) -> dict[str, float]:
        """Requests a month by route, as the generator plans them (== the profile's by_route)."""
        out = {route: count * self.monthly_orders for route, count in self.visit_routes().items()}
        for stream in self.streams:
            for route, count in stream.routes.items():
                out[route] = out.get(route, 0.0) + count * stream.per_month
        return out

    def shares(self) -> dict[str, float]:
        total = sum(self.by_route().values())
        return {route: n / total for route, n in sorted(self.by_route().items())}

    def profile_shares(self) -> dict[str, float]:
        total = sum(self.profile_by_route.values())
        return {route: n / total for route, n in sorted(self.profile_by_route.items())}

    def operation_shares(self) -> dict[str, float]:
        """The mix by operation (the AWS projection's and the day simulation's unit)."""
        out: dict[str, float] = {}
        for route, share in self.shares().items():
            op = ROUTE_OPERATIONS[route]
            out[op] = out.get(op, 0.0) + share
        return dict(sorted(out.items()))

    @property
    def visits_per_request(self) -> float:
        """Customer visits (orders) per request of the mix."""
        return self.monthly_orders / self.requests_per_month

    @property
    def real_rate_rps(self) -> float:
        """The café's own mean rate over its open hours (requests a second, uncompressed)."""
        return self.requests_per_month / (self.open_hours_per_month * 3600.0)


def _split_screen(
    source: str, kind: str, per_open_hour: Mapping[str, float], interval_s: float
) -> list[Stream]:
    """A screen's hourly routes as streams: the refresh (routes sent at least once per refresh
    interval, sent together) and one stream per slower route at its own interval (/health)."""
    refreshes_per_hour = 3600.0 / interval_s
    together = {r: n / refreshes_per_hour for r, n in per_open_hour.items() if n >= refreshes_per_hour}
    streams = (
        [Stream(source, f"{kind} refresh", together, interval_s, refreshes_per_hour)] if together else []
    )
    for route, per_hour in sorted(per_open_hour.items()):
        if route not in together and per_hour > 0:
            streams.append(Stream(source, f"{kind} {route}", {route: 1.0}, 3600.0 / per_hour, per_hour))
    return streams


def cafe_mix(profile: Profile, profile_path: Path | str = "") -> CafeMix:
    """The generator's mix for ``profile``: its census, its café (see the module docstring)."""
    # The generator replays the pages polling (the census's top level): price the same mode.
    census, shape, traffic = profile.census, profile.shape, profile.traffic_for(POLLING)
    if traffic.monthly_orders <= 0:
        raise MixError("the profile places no orders: nothing for a customer visit to do")
    all_routes = {
        *census.customer_per_order,
        *census.customer_per_visible_minute,
        *census.customer_per_hidden_minute,
        *census.barista_per_open,
        *census.barista_per_open_hour,
        *census.barista_per_order,
        *census.board_per_open,
        *census.board_per_open_hour,
    }
    unknown = sorted(all_routes - set(ROUTE_OPERATIONS))
    if unknown:
        raise MixError(f"the census counts route(s) the load generator cannot send: {', '.join(unknown)}")
    intervals = census.intervals_s
    open_days = traffic.open_days
    screen_hours = shape.screen_hours
    streams: list[Stream] = []
    for source, kind, screens, per_open, per_hour, interval in (
        ("baristas", "barista", shape.barista_tablets, census.barista_per_open, census.barista_per_open_hour,
         intervals.get("barista", 3.0)),
        ("boards", "board", shape.boards, census.board_per_open, census.board_per_open_hour,
         intervals.get("board", 3.0)),
    ):  # fmt: skip
        if screens <= 0:
            continue
        for stream in _split_screen(source, kind, per_hour, interval):
            per_month = stream.per_month * screens * open_days * screen_hours
            streams.append(Stream(source, stream.name, stream.routes, stream.interval_s, per_month))
        if per_open:
            opening = Stream(
                source, f"{kind} opens", dict(per_open), screen_hours * 3600.0, screens * open_days
            )
            streams.append(opening)
    at_placement = {r: n for r, n in census.customer_per_order.items() if r in ORDER_ROUTES or r == PLACE}
    page_load = {r: n for r, n in census.customer_per_order.items() if r not in at_placement}
    if at_placement.get(PLACE, 0.0) != 1.0:
        raise MixError("the census's customer must place exactly one order per order")
    return CafeMix(
        profile=str(profile_path),
        census=census.source,
        monthly_orders=traffic.monthly_orders,
        requests_per_month=traffic.requests_per_month,
        open_hours_per_month=open_days * profile.schedule.open_hours,
        page_load=page_load,
        at_placement=at_placement,
        per_visible_minute=dict(census.customer_per_visible_minute),
        per_hidden_minute=dict(census.customer_per_hidden_minute),
        barista_per_order=dict(census.barista_per_order),
        wait_to_ready_s=shape.wait_to_ready_min.value * 60.0,
        ready_to_pickup_s=shape.ready_to_pickup_min.value * 60.0,
        visible_share=shape.visible_share.value,
        streams=tuple(streams),
        intervals_s=dict(intervals),
        profile_by_route=dict(traffic.by_route),
    )


def mix_for(profile_path: Path) -> CafeMix:
    """The generator's mix for the profile file (the one ``--cost-profile`` names)."""
    return cafe_mix(load_profile(profile_path), profile_path)
