"""The café mix: generated from the census and the profile, seeded plans, constant arrivals, the
profile's route shares, the pages' intervals, and the barista keeping the queue moving."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from pathlib import Path

import pytest

from compare.cost.profile import load as load_profile
from compare.costlink import BASE_PROFILE
from compare.load.mix import ROUTE_OPERATIONS, cafe_mix
from compare.load.workload import (
    DEFAULT_WORKLOAD,
    CafeContext,
    Planned,
    WorkloadError,
    build_plan,
    load_workload,
    workload_record,
)

MENU = [
    {
        "id": "latte",
        "available": True,
        "options": [{"name": "milk", "choices": [{"value": "whole"}, {"value": "oat"}]}],
    },
    {"id": "scone", "available": True, "options": []},
    {"id": "gone", "available": False, "options": []},
]
PROFILES = sorted((BASE_PROFILE.parent).glob("*.json"))


def _plan(rate: float, duration: float, seed_offset: int = 0, profile: Path = BASE_PROFILE) -> list[Planned]:
    async def build() -> list[Planned]:
        ctx = CafeContext(load_workload(DEFAULT_WORKLOAD, profile), MENU, "t")
        return build_plan(ctx, rate, duration, seed_offset)

    return asyncio.run(build())


def test_default_workload_reads_and_names_its_sources() -> None:
    workload = load_workload()
    assert workload.compression > 0
    assert workload.expected("advance", 409) and workload.expected("poll", 304)
    assert not workload.expected("menu", 500)
    assert workload.mix.profile == str(BASE_PROFILE)
    assert "census" in workload.mix.census


def test_plan_is_seeded_and_on_a_constant_grid() -> None:
    first = [(p.at, p.route) for p in _plan(100, 5)]
    again = [(p.at, p.route) for p in _plan(100, 5)]
    assert first == again
    assert first != [(p.at, p.route) for p in _plan(100, 5, seed_offset=1)]
    assert len(first) == 500
    assert [round(at, 9) for at, _ in first] == [round(i / 100, 9) for i in range(500)]


@pytest.mark.parametrize("profile", PROFILES, ids=[p.stem for p in PROFILES])
def test_generated_route_shares_are_the_profiles(profile: Path) -> None:
    """The measured mix is the priced mix: the planned requests' route shares against the
    profile's traffic.by_route."""
    priced = load_profile(profile, "polling").traffic.by_route  # the generator replays the pages polling
    total = sum(priced.values())
    expected = {route: n / total for route, n in priced.items()}
    # What the generator plans in expectation is the profile's by_route, exactly.
    generated = cafe_mix(load_profile(profile), profile).shares()
    assert generated == pytest.approx(expected, abs=1e-9)
    # And a plan: long enough to hold some dozens of visits.
    plan = _plan(400, 40, profile=profile)
    counts = Counter(p.route for p in plan)
    assert set(counts) <= set(expected)
    for route, share in expected.items():
        got = counts[route] / len(plan)
        assert got == pytest.approx(share, abs=0.004 + 0.1 * share), route
    # Each request is recorded as the operation of its route (the projection's round trips).
    assert all(p.operation == ROUTE_OPERATIONS[p.route] for p in plan)


def test_a_customer_polls_at_the_pages_interval_through_the_wait() -> None:
    workload = load_workload()
    mix, c = workload.mix, workload.compression
    plan = _plan(400, 60)
    places = [p for p in plan if p.route == "POST /orders"]
    assert places and all(p.produces is not None for p in places)
    one = places[len(places) // 2]
    polls = sorted(p.at for p in plan if p.route == "GET /orders/{order_id}" and p.depends_on is one.produces)
    assert polls, "the visit tracks its own order"
    # From the placement to pickup (compressed), the gaps those of the visible or hidden tab.
    span = polls[-1] - polls[0]
    assert span <= mix.tracked_s / c * 1.1
    visible = mix.intervals_s["tracking_visible"] / c
    hidden = mix.intervals_s["tracking_hidden"] / c
    expected_polls = 1 + mix.tracked_s / 60 * (
        mix.visible_share * mix.per_visible_minute["GET /orders/{order_id}"]
        + (1 - mix.visible_share) * mix.per_hidden_minute["GET /orders/{order_id}"]
    )
    assert len(polls) == pytest.approx(expected_polls, rel=0.15)
    # On the plan the times are re-laid on the constant grid, so gaps are only roughly the page's.
    assert min(b - a for a, b in itertools.pairwise(polls)) <= visible * 1.5
    assert max(b - a for a, b in itertools.pairwise(polls)) <= hidden * 2.0


def test_the_placement_carries_an_idempotency_key_and_the_barista_moves_orders() -> None:
    plan = _plan(400, 20)
    routes = Counter(p.route for p in plan)
    # Three transitions per order (PREPARING, READY, COMPLETED): the queue keeps moving.
    assert routes["POST /orders/{order_id}/status"] == pytest.approx(3 * routes["POST /orders"], rel=0.35)
    # The screens: the barista page's refresh lists three columns and reads the store each time.
    assert routes["GET /orders"] > 2.5 * routes["GET /pickup"]


def test_equivalents_and_the_record_say_what_the_rate_stands_for() -> None:
    workload = load_workload()
    eq = workload.equivalents(100)
    assert eq["cafes"] == pytest.approx(100 / (workload.mix.real_rate_rps * workload.compression))
    record = workload_record(workload, 100)
    assert record.generated_from == workload.mix.census
    assert record.profile.endswith("small-cafe.json")
    assert record.compression == workload.compression
    assert sum(record.by_operation.values()) == pytest.approx(1.0, abs=1e-4)
    assert {"store", "pickup", "static", "health", "poll", "barista_list"} <= set(record.by_operation)
    assert record.generated_by_route == pytest.approx(record.profile_by_route, abs=1e-5)


def test_orders_use_only_available_items() -> None:
    import random

    ctx = CafeContext(load_workload(), MENU, "t")
    rng = random.Random(1)
    for _ in range(200):
        body = ctx.order_body(rng)
        assert 1 <= len(body["items"]) <= 3
        for line in body["items"]:
            assert line["item_id"] in {"latte", "scone"}
            assert set(line["options"]) <= {"milk"}


def test_the_barista_takes_the_oldest_order_once() -> None:
    ctx = CafeContext(load_workload(), MENU, "t")
    ctx.queue = {"PLACED": ["a", "b"], "PREPARING": [], "READY": ["r"]}
    assert ctx.next_work("PLACED") == ("PLACED", "a")
    assert ctx.next_work("PLACED") == ("PLACED", "b")
    assert ctx.next_work("PLACED") == ("READY", "r")  # nothing left to start: hand one over
    assert ctx.next_work("PREPARING") is None


def test_malformed_workload_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(DEFAULT_WORKLOAD.read_text().replace("compression = 20.0", "compression = -1"))
    with pytest.raises(WorkloadError, match="compression"):
        load_workload(path)
    path.write_text(DEFAULT_WORKLOAD.read_text().replace("poll = [200, 304]", "dance = [200]"))
    with pytest.raises(WorkloadError, match="dance"):
        load_workload(path)
    path.write_text("seed = 1\n")
    with pytest.raises(WorkloadError):
        load_workload(path)


def test_a_census_route_the_generator_cannot_send_is_refused(tmp_path: Path) -> None:
    import json

    census = json.loads((BASE_PROFILE.parents[1] / "census.json").read_text())
    census["board"]["per_open_hour"]["GET /weather"] = 60.0
    (tmp_path / "census.json").write_text(json.dumps(census))
    raw = json.loads(BASE_PROFILE.read_text())
    raw.setdefault("traffic", {})["census"] = str(tmp_path / "census.json")
    (tmp_path / "p.json").write_text(json.dumps(raw))
    with pytest.raises(WorkloadError, match="GET /weather"):
        load_workload(DEFAULT_WORKLOAD, tmp_path / "p.json")
