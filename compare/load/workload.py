"""The café traffic mix: read workload.toml and turn it into an open-loop plan of requests.

A plan is a list of `Planned` requests with intended send offsets. Visits arrive at a steady rate
and keep their think times; the offsets of all requests are then laid on an exact constant-rate
grid (order preserved), so the arrival rate is constant whatever the server does. A step that
needs an earlier step's answer (polling one's own order) waits for it; its latency is counted from
the later of its intended time and that answer, since no customer can poll before knowing the id.
"""

from __future__ import annotations

import asyncio
import json
import random
import tomllib
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compare.load.causes import cause_of
from compare.load.http import Http

DEFAULT_WORKLOAD = Path(__file__).with_name("workload.toml")
NEXT_STATUS = {"PLACED": "PREPARING", "PREPARING": "READY", "READY": "COMPLETED"}


class WorkloadError(ValueError):
    """The workload file is malformed."""


@dataclass(frozen=True)
class Visit:
    name: str
    weight: float
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Workload:
    seed: int
    think_mean_s: float
    think_max_s: float
    visits: tuple[Visit, ...]
    lines_min: int
    lines_max: int
    quantity_max: int
    option_probability: float
    customers: tuple[str, ...]
    barista_batch: int
    barista_keepup: float
    barista_think_s: float
    expect: Mapping[str, frozenset[int]]
    source: str

    def expected(self, operation: str, status: int) -> bool:
        return status in self.expect.get(operation, frozenset({200}))


CUSTOMER_STEPS = frozenset({"menu", "place_order", "poll", "cancel"})


def load_workload(path: Path | str = DEFAULT_WORKLOAD) -> Workload:
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    try:
        visits = tuple(
            Visit(name=str(v["name"]), weight=float(v["weight"]), steps=tuple(str(s) for s in v["steps"]))
            for v in raw["visit"]
        )
        for visit in visits:
            unknown = set(visit.steps) - CUSTOMER_STEPS
            if unknown:
                raise WorkloadError(f"visit {visit.name}: unknown steps {sorted(unknown)}")
            if ("poll" in visit.steps or "cancel" in visit.steps) and "place_order" not in visit.steps:
                raise WorkloadError(f"visit {visit.name}: poll/cancel need a place_order step")
        order, barista, think = raw["order"], raw["barista"], raw["think"]
        return Workload(
            seed=int(raw["seed"]),
            think_mean_s=float(think["mean_s"]),
            think_max_s=float(think["max_s"]),
            visits=visits,
            lines_min=int(order["lines_min"]),
            lines_max=int(order["lines_max"]),
            quantity_max=int(order["quantity_max"]),
            option_probability=float(order["option_probability"]),
            customers=tuple(str(c) for c in order["customers"]),
            barista_batch=int(barista["batch"]),
            barista_keepup=float(barista["keepup"]),
            barista_think_s=float(barista["think_s"]),
            expect={k: frozenset(int(s) for s in v) for k, v in raw.get("expect", {}).items()},
            source=str(path),
        )
    except (KeyError, TypeError) as exc:
        raise WorkloadError(f"{path}: missing or malformed field {exc}") from exc


@dataclass(frozen=True)
class Outcome:
    """What one request produced: its status (or error name) and whether it was expected."""

    status: str
    ok: bool
    cause: str = ""  # who answered an unexpected status (compare.load.causes); "" when ok


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


@dataclass
class CafeContext:
    """What every request of a run shares: the menu, the staff token, the workload."""

    workload: Workload
    menu_items: Sequence[Mapping[str, Any]]
    staff_token: str
    rng: random.Random = field(default_factory=random.Random)
    # (status, order id) pairs some barista round has taken: concurrent rounds list the same
    # queue, and a list can be stale by the time a slot uses it; without claims the rounds would
    # fight over the oldest orders (409s, and a queue that stops moving).
    claimed: set[tuple[str, str]] = field(default_factory=set)

    def claim(self, status: str, listed: Sequence[str]) -> str | None:
        for order_id in listed:
            if (status, order_id) not in self.claimed:
                self.claimed.add((status, order_id))
                return order_id
        return None

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


async def _request(
    client: Http,
    workload: Workload,
    operation: str,
    method: str,
    path: str,
    **kwargs: Any,
) -> tuple[Outcome, Any]:
    """Send one request, read the whole body, and judge the status against the workload."""
    async with client.request(method, path, **kwargs) as response:
        body = await response.read()
        status = response.status
    ok = workload.expected(operation, status)
    outcome = Outcome(str(status), ok, "" if ok else cause_of(status, body))
    parsed: Any = None
    if status < 300 and body:
        parsed = json.loads(body)
    return outcome, parsed


def _think(rng: random.Random, workload: Workload) -> float:
    return min(rng.expovariate(1.0 / workload.think_mean_s), workload.think_max_s)


def _visit_requests(ctx: CafeContext, visit: Visit, start: float, rng: random.Random) -> list[Planned]:
    w = ctx.workload
    loop = asyncio.get_running_loop()
    order_id: asyncio.Future[str | None] = loop.create_future()
    body = ctx.order_body(rng) if "place_order" in visit.steps else None
    planned: list[Planned] = []
    at = start
    for index, step in enumerate(visit.steps):
        if index:
            at += _think(rng, w)
        if step == "menu":

            async def menu(client: Http) -> Outcome:
                return (await _request(client, w, "menu", "GET", "/menu"))[0]

            planned.append(Planned(at, "menu", menu))
        elif step == "place_order":

            async def place(client: Http, body: Any = body, fut: Any = order_id) -> Outcome:
                created: Any = None
                try:
                    # As the customer page does: a key per placement, so a retry cannot order twice
                    # (and a keyed placement is the one the café's DynamoDB calls are counted for).
                    key = {"Idempotency-Key": str(uuid.uuid4())}
                    outcome, created = await _request(
                        client, w, "place_order", "POST", "/orders", json=body, headers=key
                    )
                finally:
                    if not fut.done():
                        fut.set_result(created.get("id") if isinstance(created, dict) else None)
                return outcome

            planned.append(Planned(at, "place_order", place, produces=order_id))
        else:
            path_tail = "" if step == "poll" else "/cancel"

            async def follow(
                client: Http, step: str = step, tail: str = path_tail, fut: Any = order_id
            ) -> Outcome | None:
                oid = fut.result()
                if oid is None:
                    return None
                method = "GET" if step == "poll" else "POST"
                return (await _request(client, w, step, method, f"/orders/{oid}{tail}"))[0]

            planned.append(Planned(at, step, follow, depends_on=order_id))
    return planned


def _barista_round(ctx: CafeContext, start: float) -> list[Planned]:
    w = ctx.workload
    loop = asyncio.get_running_loop()
    planned: list[Planned] = []
    at = start
    for status in ("PLACED", "PREPARING", "READY"):
        listed: asyncio.Future[list[str]] = loop.create_future()

        async def list_queue(client: Http, status: str = status, fut: Any = listed) -> Outcome:
            ids: list[str] = []
            try:
                outcome, listing = await _request(
                    client,
                    w,
                    "barista_list",
                    "GET",
                    "/orders",
                    params={"status": status},
                    headers=ctx.staff_headers,
                )
                if isinstance(listing, dict):
                    ids = [str(o["id"]) for o in listing.get("orders", [])]
            finally:
                if not fut.done():
                    fut.set_result(ids)
            return outcome

        planned.append(Planned(at, "barista_list", list_queue, produces=listed, empty=[]))
        for _slot in range(w.barista_batch):
            at += w.barista_think_s

            async def advance(client: Http, status: str = status, fut: Any = listed) -> Outcome | None:
                ids: list[str] = fut.result()
                order_id = ctx.claim(status, ids)
                if order_id is None:
                    # Nothing to advance in this stage: the barista looks at the next stage's queue.
                    stage = list(NEXT_STATUS)[(list(NEXT_STATUS).index(status) + 1) % len(NEXT_STATUS)]
                    params = {"status": stage}
                    return (
                        await _request(
                            client,
                            w,
                            "barista_list",
                            "GET",
                            "/orders",
                            params=params,
                            headers=ctx.staff_headers,
                        )
                    )[0]
                path = f"/orders/{order_id}/status"
                body = {"status": NEXT_STATUS[status]}
                outcome: Outcome | None = None
                try:
                    outcome = (
                        await _request(
                            client, w, "advance", "POST", path, json=body, headers=ctx.staff_headers
                        )
                    )[0]
                    return outcome
                finally:
                    if outcome is None or outcome.status not in ("200", "409"):
                        ctx.claimed.discard((status, order_id))  # failed: a later round may retry it

            planned.append(Planned(at, "advance", advance, depends_on=listed))
        at += w.barista_think_s
    return planned


def build_plan(ctx: CafeContext, rate: float, duration: float, seed_offset: int = 0) -> list[Planned]:
    """Requests for `duration` seconds at exactly `rate` requests per second (must run in a loop).

    Visits and barista rounds start at a steady pace chosen so that their requests average
    `rate`; then the sorted request times are replaced by the constant grid i / rate.
    """
    w = ctx.workload
    rng = random.Random(w.seed + seed_offset)  # noqa: S311 - a repeatable workload, not a secret
    total_weight = sum(v.weight for v in w.visits)
    visit_len = sum(v.weight * len(v.steps) for v in w.visits) / total_weight
    orders_per_visit = sum(v.weight for v in w.visits if "place_order" in v.steps) / total_weight
    rounds_per_visit = orders_per_visit * w.barista_keepup / max(w.barista_batch, 1)
    round_len = 3 * (1 + w.barista_batch)
    requests_per_visit = visit_len + rounds_per_visit * round_len
    visit_rate = rate / requests_per_visit
    wanted = max(1, round(rate * duration))
    planned: list[Planned] = []
    # Start visits early enough that the grid is in steady state from its first slot.
    t = -w.think_max_s * 4
    barista_credit = 0.0
    horizon = duration + w.think_max_s * 8
    while t < horizon:
        visit = rng.choices(w.visits, weights=[v.weight for v in w.visits])[0]
        planned.extend(_visit_requests(ctx, visit, t, rng))
        barista_credit += rounds_per_visit
        while barista_credit >= 1.0:
            planned.extend(_barista_round(ctx, t + rng.random() / visit_rate))
            barista_credit -= 1.0
        t += 1.0 / visit_rate
    ordered = sorted(planned, key=lambda p: p.at)
    # Steps whose producer fell before the grid's start go too: they could never be sent.
    early = {id(p.produces) for p in ordered if p.at < 0 and p.produces is not None}
    kept = [p for p in ordered if p.at >= 0 and id(p.depends_on) not in early][:wanted]
    kept_ids = {id(p) for p in kept}
    for dropped in ordered:
        if id(dropped) not in kept_ids and dropped.produces is not None and not dropped.produces.done():
            dropped.produces.set_result(dropped.empty)
    return [
        Planned(i / rate, p.operation, p.action, p.depends_on, p.produces, p.empty)
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


def constant_get_plan(rate: float, duration: float, path: str = "/", operation: str = "get") -> list[Planned]:
    """A plain constant-rate GET plan (headroom check, tests): every 1/rate s, expect 200."""

    async def get(client: Http) -> Outcome:
        async with client.get(path) as response:
            body = await response.read()
            ok = response.status == 200
            return Outcome(str(response.status), ok, "" if ok else cause_of(response.status, body))

    return [Planned(i / rate, operation, get) for i in range(max(1, round(rate * duration)))]
