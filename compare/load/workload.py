"""The café traffic as an open-loop plan of requests, generated from the census and the profile.

What is sent comes from ``compare.load.mix`` (the census of the pages × the cost profile the run
prices); ``workload.toml`` gives only the seed, the time compression and the orders' content.

A plan is a list of `Planned` requests with intended send offsets. Customer visits arrive at a
steady pace and keep the page's timing, compressed by one factor for the whole run; the screens are
constant-rate streams. The offsets of all requests are then laid on an exact constant-rate grid
(order preserved), so the arrival rate is constant whatever the server does. A request that needs
an earlier one's answer (polling one's own order) waits for it; its latency is counted from the
later of its intended time and that answer, since no customer can poll before knowing the id.

Visits start before the window opens, so it opens on a café in its steady state: customers already
waiting poll an order this run placed earlier (the pool), and the barista works the queue as the
page shows it (the oldest order of a column), so the queue keeps moving whoever placed its orders.
"""

from __future__ import annotations

import asyncio
import json
import random
import tomllib
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compare.costlink import BASE_PROFILE
from compare.load.causes import cause_of
from compare.load.http import Http
from compare.load.mix import (
    ADVANCE,
    CANCEL,
    COLUMNS,
    PLACE,
    POLL,
    ROUTE_OPERATIONS,
    START_SHARE,
    TRANSITIONS,
    CafeMix,
    MixError,
    Stream,
    mix_for,
)
from compare.results import WorkloadRecord

DEFAULT_WORKLOAD = Path(__file__).with_name("workload.toml")
DEFAULT_PROFILE = BASE_PROFILE
NEXT_STATUS = {"PLACED": "PREPARING", "PREPARING": "READY", "READY": "COMPLETED"}
# The static files each page loads (the census counts how many; these are the names it asks for).
STATIC_FILES = {
    "customer": ("app.css", "customer.js", "api.js", "i18n.js", "ui.js", "favicon.svg"),
    "barista": ("app.css", "barista.js", "api.js", "i18n.js", "ui.js", "staff.js", "favicon.svg"),
    "board": ("app.css", "board.js", "api.js", "i18n.js", "ui.js", "favicon.svg"),
}
PAGES = {"GET /": "/", "GET /barista": "/barista", "GET /board": "/board"}
QUEUE_LIMIT = "500"  # the barista page's limit per column
POOL_SIZE = 64  # recent orders a customer already waiting when a window opens may be tracking


class WorkloadError(ValueError):
    """The workload file is malformed, or no mix can be generated from the census and profile."""


@dataclass(frozen=True)
class Workload:
    seed: int
    compression: float
    browse_s: float
    mix: CafeMix
    lines_min: int
    lines_max: int
    quantity_max: int
    option_probability: float
    customers: tuple[str, ...]
    expect: Mapping[str, frozenset[int]]
    source: str

    def expected(self, operation: str, status: int) -> bool:
        return status in self.expect.get(operation, frozenset({200}))

    @property
    def visit_s(self) -> float:
        """A visit's length in the plan: page load to pickup, compressed."""
        return (self.browse_s + self.mix.tracked_s) / self.compression

    def equivalents(self, rate: float) -> dict[str, float]:
        """What a plan at `rate` stands for: cafés of the profile at their average open hour, and
        the customers, barista tablets and boards open at once, at this run's compression."""
        m = self.mix
        cafes = rate / (m.real_rate_rps * self.compression)
        visits_per_s = rate * m.visits_per_request
        screens: dict[str, float] = {}
        for stream in m.streams:
            if stream.name.endswith(" refresh"):
                events_per_s = rate * stream.per_month / m.requests_per_month
                kind = stream.name.removesuffix(" refresh")
                screens[kind] = screens.get(kind, 0.0) + events_per_s * stream.interval_s / self.compression
        return {
            "cafes": cafes,
            "customers_tracking": visits_per_s * m.tracked_s / self.compression,
            "visits_per_s": visits_per_s,
            **{f"{kind}_screens": n for kind, n in screens.items()},
        }


def load_workload(path: Path | str = DEFAULT_WORKLOAD, profile: Path | str = DEFAULT_PROFILE) -> Workload:
    """The replay options of `path` with the mix generated from `profile`'s census and café."""
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    try:
        order = raw["order"]
        compression = float(raw["compression"])
        browse_s = float(raw.get("browse_s", 0.0))
        if compression <= 0 or browse_s < 0:
            raise WorkloadError(f"{path}: compression must be > 0 and browse_s ≥ 0")
        expect = {k: frozenset(int(s) for s in v) for k, v in raw.get("expect", {}).items()}
        unknown = set(expect) - set(ROUTE_OPERATIONS.values())
        if unknown:
            raise WorkloadError(f"{path}: expect names unknown operation(s) {sorted(unknown)}")
        lines_min, lines_max = int(order["lines_min"]), int(order["lines_max"])
        if not 1 <= lines_min <= lines_max:
            raise WorkloadError(f"{path}: order needs 1 ≤ lines_min ≤ lines_max")
        seed = int(raw["seed"])
        customers = tuple(str(c) for c in order["customers"])
        quantity_max, option_probability = int(order["quantity_max"]), float(order["option_probability"])
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, WorkloadError):
            raise
        raise WorkloadError(f"{path}: missing or malformed field {exc}") from exc
    try:
        mix = mix_for(Path(profile))
    except (MixError, ValueError) as exc:
        raise WorkloadError(f"no café mix from {profile}: {exc}") from exc
    return Workload(
        seed=seed,
        compression=compression,
        browse_s=browse_s,
        mix=mix,
        lines_min=lines_min,
        lines_max=lines_max,
        quantity_max=quantity_max,
        option_probability=option_probability,
        customers=customers,
        expect=expect,
        source=str(path),
    )


@dataclass(frozen=True)
class Outcome:
    """What one request produced: its status (or error name) and whether it was expected."""

    status: str
    ok: bool
    cause: str = ""  # who answered an unexpected status (compare.load.causes); "" when ok
    operation: str = ""  # what was sent, when it is not what was planned (an advance with no work)


Action = Callable[[Http], Awaitable[Outcome | None]]
"""Performs one request; None means the step had nothing to do (not sent, not counted)."""


@dataclass(frozen=True)
class Planned:
    at: float
    operation: str
    action: Action
    # Awaited before the request is sent; latency then counts from max(at, when it resolved).
    depends_on: asyncio.Future[Any] | None = None
    # Resolved by this request; if the request is dropped from the plan, resolved with `empty`.
    produces: asyncio.Future[Any] | None = None
    empty: Any = None
    route: str = ""  # the route template sent ("GET /orders/{order_id}"), as the census names it


@dataclass
class CafeContext:
    """What every request of a run shares: the menu, the staff token, the workload, and the café's
    state as the generator saw it (recent orders, the barista's view of the queue)."""

    workload: Workload
    menu_items: Sequence[Mapping[str, Any]]
    staff_token: str
    rng: random.Random = field(default_factory=random.Random)
    # Orders this run placed, newest last: a customer already waiting when a window opens tracks one.
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=POOL_SIZE))
    # The barista page's view: each column's order ids, oldest first, as its last refresh listed them.
    queue: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in COLUMNS})
    # (status, order id) pairs some barista action has taken: the view can be stale by the time an
    # action uses it; without claims the actions would fight over the oldest orders (409s).
    claimed: set[tuple[str, str]] = field(default_factory=set)
    etags: dict[str, str] = field(default_factory=dict)  # the last ETag seen per polled path

    def claim(self, status: str, listed: Sequence[str]) -> str | None:
        for order_id in listed:
            if (status, order_id) not in self.claimed:
                self.claimed.add((status, order_id))
                return order_id
        return None

    def next_work(self, wanted: str) -> tuple[str, str] | None:
        """The order a barista moves on: the oldest of the wanted column, else of any other (the
        latest stage first), as the page shows them; None when the queue is empty."""
        for status in (wanted, *reversed(COLUMNS)):
            order_id = self.claim(status, self.queue.get(status, []))
            if order_id is not None:
                return status, order_id
        return None

    def adopt(self) -> str | None:
        """An order for a customer who was already waiting when the window opened."""
        return self.recent[-1] if self.recent else None

    @property
    def staff_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.staff_token}"}

    def order_body(self, rng: random.Random) -> dict[str, Any]:
        w = self.workload
        available = [item for item in self.menu_items if item.get("available", True)] or list(self.menu_items)
        lines = []
        for item in rng.sample(available, k=min(len(available), rng.randint(w.lines_min, w.lines_max))):
            options = {
                str(opt["name"]): str(rng.choice(opt["choices"])["value"])
                for opt in item.get("options", [])
                if opt.get("choices") and rng.random() < w.option_probability
            }
            lines.append(
                {"item_id": item["id"], "quantity": rng.randint(1, w.quantity_max), "options": options}
            )
        return {"customer": rng.choice(w.customers), "items": lines}


async def _list_column(client: Http, ctx: CafeContext, status: str) -> Outcome:
    """The barista page's GET /orders for one column; the page's view of it is kept in ``ctx``."""
    params = {"status": status, "limit": QUEUE_LIMIT}
    outcome, listing, _ = await _request(
        client, ctx.workload, "barista_list", "GET", "/orders", params=params, headers=ctx.staff_headers
    )
    if isinstance(listing, dict):
        ctx.queue[status] = [str(o["id"]) for o in listing.get("orders", [])]
    return outcome


async def _request(
    client: Http,
    workload: Workload,
    operation: str,
    method: str,
    path: str,
    **kwargs: Any,
) -> tuple[Outcome, Any, Mapping[str, str]]:
    """Send one request, read the whole body, and judge the status against the workload."""
    async with client.request(method, path, **kwargs) as response:
        body = await response.read()
        status = response.status
        headers = {"etag": response.headers.get("ETag", "")}
    ok = workload.expected(operation, status)
    outcome = Outcome(str(status), ok, "" if ok else cause_of(status, body))
    parsed: Any = None
    if status < 300 and body and operation not in ("static",):
        parsed = json.loads(body)
    return outcome, parsed, headers


def _count(n: float, rng: random.Random) -> int:
    """`n` requests where n may be fractional: its whole part, and one more with its remainder's chance."""
    whole = int(n)
    return whole + (1 if rng.random() < n - whole else 0)


def _emit(segments: Sequence[tuple[float, float, float]], phase: float) -> list[float]:
    """Send times at a piecewise-constant rate (start, end, per second): one each time its integral
    passes a whole number, from `phase` ∈ [0, 1) — the page's interval in each segment."""
    times: list[float] = []
    acc = phase
    for start, end, per_s in segments:
        if per_s <= 0:
            continue
        t = start
        while True:
            step = (1.0 - acc) / per_s
            if t + step > end:
                acc += (end - t) * per_s
                break
            t += step
            times.append(t)
            acc = 0.0
    return times


class _Builder:
    """Turns routes into requests (the actions), the way the pages send them."""

    def __init__(self, ctx: CafeContext, rng: random.Random) -> None:
        self.ctx, self.rng, self.w = ctx, rng, ctx.workload
        self.out: list[Planned] = []
        self.columns = 0  # the next column a refresh without one lists (the page lists all three)

    def add(self, at: float, route: str, action: Action, **kw: Any) -> None:
        self.out.append(Planned(at, ROUTE_OPERATIONS[route], action, route=route, **kw))

    def get(self, at: float, route: str, path: str, conditional: bool = False, staff: bool = False) -> None:
        ctx, op = self.ctx, ROUTE_OPERATIONS[route]

        async def get(client: Http) -> Outcome:
            headers = dict(ctx.staff_headers) if staff else {}
            if conditional and path in ctx.etags:
                headers["If-None-Match"] = ctx.etags[path]
            outcome, _, got = await _request(client, ctx.workload, op, "GET", path, headers=headers)
            if conditional and got["etag"]:
                ctx.etags[path] = got["etag"]
            return outcome

        self.add(at, route, get)

    def static(self, at: float, route: str, count: int, page: str) -> None:
        names = STATIC_FILES[page]
        for k in range(count):
            if route == "GET /static/{name}":
                self.get(at, route, f"/static/{names[k % len(names)]}")
            else:
                self.get(at, route, PAGES[route])

    def simple(self, at: float, route: str, count: int, page: str) -> None:
        """A route that needs no order: the pages, their files, /health, /live, /menu, /store, /pickup."""
        if route in PAGES or route == "GET /static/{name}":
            self.static(at, route, count, page)
            return
        for _ in range(count):
            if route == "GET /orders":
                self.queue(at)
            elif route in ("GET /health", "GET /live", "GET /menu", "GET /store", "GET /pickup"):
                path = route.split(" ", 1)[1]
                self.get(at, route, path, conditional=route == "GET /pickup")
            else:
                raise WorkloadError(f"{route} needs an order: not a route a page sends on its own")

    def queue(self, at: float, column: str | None = None) -> None:
        """The barista page's refresh of one column (its view of the queue is kept in the context)."""
        ctx = self.ctx
        if column is None:
            column, self.columns = COLUMNS[self.columns % len(COLUMNS)], self.columns + 1
        status = column

        async def list_queue(client: Http) -> Outcome:
            return await _list_column(client, ctx, status)

        self.add(at, "GET /orders", list_queue)

    def place(self, at: float, order: asyncio.Future[str | None]) -> None:
        ctx, body = self.ctx, self.ctx.order_body(self.rng)

        async def place(client: Http) -> Outcome:
            created: Any = None
            try:
                # As the customer page does: a key per placement, so a retry cannot order twice
                # (and a keyed placement is the one the café's DynamoDB calls are counted for).
                key = {"Idempotency-Key": str(uuid.uuid4())}
                outcome, created, _ = await _request(
                    client, ctx.workload, "place_order", "POST", "/orders", json=body, headers=key
                )
            finally:
                order_id = created.get("id") if isinstance(created, dict) else None
                if order_id is not None:
                    ctx.recent.append(str(order_id))
                if not order.done():
                    order.set_result(order_id)
            return outcome

        self.add(at, PLACE, place, produces=order)

    def follow(
        self, at: float, route: str, visit: dict[str, Any], order: asyncio.Future[str | None] | None
    ) -> None:
        """The visit's own order: polled (If-None-Match, as the page) or cancelled. A visit that began
        before the window tracks an order this run placed before (`order` None)."""
        ctx = self.ctx
        op = ROUTE_OPERATIONS[route]

        async def follow(client: Http) -> Outcome | None:
            oid = order.result() if order is not None else visit.get("adopted") or ctx.adopt()
            if oid is None:
                return None
            visit["adopted"] = oid
            if route == CANCEL:
                return (await _request(client, ctx.workload, op, "POST", f"/orders/{oid}/cancel"))[0]
            path = f"/orders/{oid}"
            headers = {"If-None-Match": ctx.etags[path]} if path in ctx.etags else {}
            outcome, _, got = await _request(client, ctx.workload, op, "GET", path, headers=headers)
            if got["etag"]:
                ctx.etags[path] = got["etag"]
            return outcome

        self.add(at, route, follow, depends_on=order)

    def advance(self, at: float, transition: str) -> None:
        """The barista moves an order on, the oldest the page shows in the column before
        `transition` (else in another column); with nothing in the queue the page only refreshes."""
        ctx = self.ctx
        wanted = {v: k for k, v in NEXT_STATUS.items()}[transition]

        async def advance(client: Http) -> Outcome | None:
            work = ctx.next_work(wanted)
            if work is None:
                listed = await _list_column(client, ctx, wanted)
                return Outcome(listed.status, listed.ok, listed.cause, "barista_list")
            status, order_id = work
            path, body = f"/orders/{order_id}/status", {"status": NEXT_STATUS[status]}
            outcome: Outcome | None = None
            try:
                outcome = (
                    await _request(
                        client, ctx.workload, "advance", "POST", path, json=body, headers=ctx.staff_headers
                    )
                )[0]
                return outcome
            finally:
                if outcome is None or outcome.status not in ("200", "409"):
                    ctx.claimed.discard((status, order_id))  # failed: a later action may retry it

        self.add(at, ADVANCE, advance)


def _visit(b: _Builder, start: float) -> None:
    """One customer's visit from `start`: the page load, the order, the tracking polls through the
    wait (visible and hidden in turn), and the barista's work for one order."""
    w, rng = b.w, b.rng
    m, c = w.mix, w.compression
    placed_at = start + w.browse_s / c
    tracked = m.tracked_s / c
    for route, n in sorted(m.page_load.items()):
        b.simple(start, route, _count(n, rng), "customer")
    loop = asyncio.get_running_loop()
    visit: dict[str, Any] = {}
    order: asyncio.Future[str | None] | None = None
    if placed_at >= 0:  # a visit that placed before the window tracks an earlier order instead
        order = loop.create_future()
        b.place(placed_at, order)
    for route, n in sorted(m.at_placement.items()):
        if route != PLACE:
            for _ in range(_count(n, rng)):
                b.follow(placed_at, route, visit, order)
    # The tab is visible for the profile's share of every minute of the wait, hidden the rest.
    cycles = max(1, round(m.tracked_s / 60.0))
    cycle = tracked / cycles
    visible = cycle * m.visible_share
    for route in sorted({*m.per_visible_minute, *m.per_hidden_minute}):
        segments = []
        for k in range(cycles):
            begin = placed_at + k * cycle
            segments.append((begin, begin + visible, m.per_visible_minute.get(route, 0.0) * c / 60.0))
            segments.append((begin + visible, begin + cycle, m.per_hidden_minute.get(route, 0.0) * c / 60.0))
        for at in _emit(segments, rng.random()):
            if route in (POLL, CANCEL):
                b.follow(at, route, visit, order)
            else:
                b.simple(at, route, 1, "customer")
    # The barista: each transition of the order, each followed by the page's refresh.
    times = (
        placed_at + START_SHARE * m.wait_to_ready_s / c,
        placed_at + m.wait_to_ready_s / c,
        placed_at + tracked,
    )
    actions = min(len(TRANSITIONS), _count(m.barista_per_order.get(ADVANCE, 0.0), rng))
    for at, transition in list(zip(times, TRANSITIONS, strict=True))[:actions]:
        b.advance(at, transition)
    for route, n in sorted(m.barista_per_order.items()):
        if route == ADVANCE:
            continue
        for k in range(_count(n, rng)):
            at = times[k % len(times)]
            if route == "GET /orders":
                b.queue(at, COLUMNS[(k // len(times)) % len(COLUMNS)])
            else:
                b.simple(at, route, 1, "barista")


def _stream_event(b: _Builder, stream: Stream, at: float) -> None:
    page = "barista" if stream.source == "baristas" else "board"
    for route, n in sorted(stream.routes.items()):
        count = _count(n, b.rng)
        if route == "GET /orders":
            for k in range(count):
                b.queue(at, COLUMNS[k % len(COLUMNS)])
        else:
            b.simple(at, route, count, page)


def build_plan(ctx: CafeContext, rate: float, duration: float, seed_offset: int = 0) -> list[Planned]:
    """Requests for `duration` seconds at exactly `rate` requests per second (must run in a loop).

    Customer visits start at a steady pace and the screens' streams at their constant rates, each
    chosen so that its share of the requests is its share of the profile's month; then the sorted
    request times are replaced by the constant grid i / rate.
    """
    w = ctx.workload
    m = w.mix
    rng = random.Random(w.seed + seed_offset)  # noqa: S311 - a repeatable workload, not a secret
    b = _Builder(ctx, rng)
    wanted = max(1, round(rate * duration))
    horizon = duration * 1.05 + 1.0 / rate
    visit_rate = rate * m.visits_per_request
    # Visits start early enough that the window opens on customers already waiting.
    t = -w.visit_s - rng.random() / visit_rate
    while t < horizon:
        _visit(b, t)
        t += 1.0 / visit_rate
    for stream in m.streams:
        events_per_s = rate * stream.per_month / m.requests_per_month
        if events_per_s <= 0:
            continue
        t = rng.random() / events_per_s
        while t < horizon:
            _stream_event(b, stream, t)
            t += 1.0 / events_per_s
    ordered = sorted(b.out, key=lambda p: p.at)
    kept = [p for p in ordered if p.at >= 0][:wanted]
    kept_ids = {id(p) for p in kept}
    for dropped in ordered:
        if id(dropped) not in kept_ids and dropped.produces is not None and not dropped.produces.done():
            dropped.produces.set_result(dropped.empty)
    return [
        Planned(i / rate, p.operation, p.action, p.depends_on, p.produces, p.empty, p.route)
        for i, p in enumerate(kept)
    ]


async def fetch_menu(client: Http) -> list[dict[str, Any]]:
    async with client.get("/menu", raise_for_status=True) as response:
        return list((await response.json(content_type=None))["items"])


async def prepare_store(client: Http, staff_token: str, max_waiting: int = 1000) -> None:
    """Open the store with a waiting cap high enough that the cap itself causes no errors."""
    headers = {"Authorization": f"Bearer {staff_token}"}
    body = {"open": True, "max_waiting": max_waiting}
    async with client.put("/store", json=body, headers=headers, raise_for_status=True) as response:
        await response.read()


async def seed_order(client: Http, ctx: CafeContext) -> None:
    """One order placed in the set-up, so that the customers already waiting when the first window
    opens have an order to track (every later window finds the orders of the ones before)."""
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = ctx.order_body(random.Random(ctx.workload.seed))  # noqa: S311 - repeatable
    async with client.request("POST", "/orders", json=body, headers=key) as response:
        created = await response.json(content_type=None) if response.status == 201 else None
    if isinstance(created, dict) and created.get("id"):
        ctx.recent.append(str(created["id"]))


def constant_get_plan(rate: float, duration: float, path: str = "/", operation: str = "get") -> list[Planned]:
    """A plain constant-rate GET plan (headroom check, tests): every 1/rate s, expect 200."""

    async def get(client: Http) -> Outcome:
        async with client.get(path) as response:
            body = await response.read()
            ok = response.status == 200
            return Outcome(str(response.status), ok, "" if ok else cause_of(response.status, body))

    return [Planned(i / rate, operation, get) for i in range(max(1, round(rate * duration)))]


def workload_record(w: Workload, reference_rate: float) -> WorkloadRecord:
    """What results.json says of the workload: generated from which census and profile, how
    compressed, its route shares beside the profile's, what the reference rate stands for."""
    m = w.mix
    eq = w.equivalents(reference_rate)
    generated, priced = m.shares(), m.profile_shares()
    worst = max((abs(generated[r] - priced.get(r, 0.0)) for r in generated), default=0.0)
    notes = (
        f"generated from the census and the profile {Path(m.profile).name}: one visit per order "
        f"(page load, POST /orders with an Idempotency-Key, GET /orders/{{id}} every "
        f"{m.intervals_s.get('tracking_visible', 2.5):g} s visible / "
        f"{m.intervals_s.get('tracking_hidden', 12.5):g} s hidden through a "
        f"{m.tracked_s / 60:g}-minute wait, "
        f"{m.visible_share:.0%} visible), the barista's three transitions per order, and the screens as "
        "constant-rate clients",
        f"time compressed {w.compression:g}×: a visit lasts {w.visit_s:.1f} s, the barista page refreshes "
        f"every {m.intervals_s.get('barista', 3.0) / w.compression * 1000:.0f} ms per screen",
        f"{reference_rate:g} req/s stands for {eq['cafes']:.2f} such cafés at their average open hour "
        f"({eq['customers_tracking']:.1f} customers tracking an order at once)",
        f"route shares within {worst:.2e} of the profile's traffic.by_route (a plan's own shares vary "
        "with its length: few visits fit in a short window)",
    )
    return WorkloadRecord(
        file=w.source,
        seed=w.seed,
        generated_from=m.census,
        profile=m.profile,
        compression=w.compression,
        generated_by_route={r: round(v, 6) for r, v in generated.items()},
        profile_by_route={r: round(v, 6) for r, v in priced.items()},
        by_operation={op: round(v, 6) for op, v in m.operation_shares().items()},
        reference_equivalents={k: round(v, 3) for k, v in eq.items()},
        notes=notes,
    )
