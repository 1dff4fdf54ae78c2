"""The café's requests derived from the census of its pages, and DynamoDB units per route."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from moto import mock_aws

from cafe.api import CafeApi, Request, StaffGuard
from cafe.domain.menu import load_menu
from cafe.observability import Telemetry
from cafe.service import CafeService
from cafe.stores.dynamodb import DynamoDBStore, create_table
from cafe.stores.round_trips import RoundTripCounter
from compare.cost.dynamodb_units import CALLS, Queue, representative_sizes, units_per_route
from compare.cost.profile import ProfileError, parse
from compare.cost.sizing import hourly_rps
from compare.cost.traffic import CENSUS, CensusError, load_census
from tests.contract.dynamodb_factory import DUMMY_ENVIRONMENT, REGION

CENSUS_DOC: dict[str, Any] = {
    "census_version": 1,
    "provenance": {
        "command": "make census",
        "browser": "Chromium 1",
        "date": "2026-12-04",
        "git_revision": "abc",
    },
    "intervals_s": {"tracking_visible": 2.5, "tracking_hidden": 12.5, "barista": 3, "board": 3, "health": 60},
    "customer": {
        "per_order": {"GET /": 1, "POST /orders": 1},
        "per_visible_minute": {"GET /orders/{order_id}": 24},
        "per_hidden_minute": {"GET /orders/{order_id}": 4},
    },
    "barista": {
        "per_open": {"GET /barista": 1},
        "per_open_hour": {"GET /orders": 3600, "GET /store": 1200},
        "per_order": {"POST /orders/{order_id}/status": 3},
    },
    "board": {"per_open": {"GET /board": 1}, "per_open_hour": {"GET /pickup": 1200}},
}


@pytest.fixture
def census(tmp_path: Path) -> Path:
    path = tmp_path / "census.json"
    path.write_text(json.dumps(CENSUS_DOC), encoding="utf-8")
    return path


def cafe(census: Path, **traffic: Any) -> dict[str, Any]:
    """A café of 100 orders a day whose pages poll (CENSUS_DOC has no push figures)."""
    return {
        "orders_per_day": 100,
        "mode": "polling",
        "hours_per_month": 720,  # 30 open days
        "schedule": {"open_from": 7, "open_until": 19},
        "traffic": {
            "census": str(census),
            "wait_to_ready_min": 5,
            "ready_to_pickup_min": 1,
            "visible_share": 0.5,
            **traffic,
        },
    }


def test_requests_by_hand(census: Path) -> None:
    p = parse(cafe(census))
    # A customer: 2 fixed + 6 min × (0.5 × 24 + 0.5 × 4) = 2 + 84 = 86 per order; 3,000 orders.
    assert p.traffic.by_source["customers"] == pytest.approx(86 * 3000)
    # The barista: 3 per order, and each day opens once and polls 12 h × 4,800.
    assert p.traffic.by_source["baristas"] == pytest.approx(3 * 3000 + 30 * (1 + 12 * 4800))
    assert p.traffic.by_source["boards"] == pytest.approx(30 * (1 + 12 * 1200))
    assert p.traffic.by_route["GET /orders/{order_id}"] == pytest.approx(84 * 3000)
    assert p.requests_per_order == pytest.approx(p.monthly_requests / 3000)
    assert sum(p.traffic.by_route.values()) == pytest.approx(p.monthly_requests)
    document = p.traffic.to_dict()
    assert document["mode"] == "polling"
    assert "census" in document["source"] and "Chromium 1" in document["source"]


def test_screens_are_a_fixed_cost_orders_are_linear(census: Path) -> None:
    p = parse(cafe(census, boards=2, barista_tablets=3))
    none, one, two = (p.with_orders(n).monthly_requests for n in (0, 1, 2))
    assert none == pytest.approx(30 * (3 * (1 + 12 * 4800) + 2 * (1 + 12 * 1200)))
    assert two - one == pytest.approx(one - none) == pytest.approx(86 + 3)


def test_screens_poll_flat_while_customers_follow_the_peaks(census: Path) -> None:
    p = parse(cafe(census))
    hourly = hourly_rps(p)
    assert sum(rate * 3600 for rate in hourly) == pytest.approx(p.monthly_requests / 30)
    screens = 4800 + 1200
    assert hourly[6] == 0 and hourly[19] == 0
    # Off-peak and peak hours differ only by the customers' (and barista actions') share.
    assert hourly[10] * 3600 > screens and hourly[8] > hourly[10]


def test_a_profile_that_types_requests_per_order_is_refused(census: Path) -> None:
    with pytest.raises(ProfileError, match="derived from the census"):
        parse({**cafe(census), "requests_per_order": 8})


@pytest.mark.parametrize(
    "value", [{"value": 0.5, "low": 0.6, "high": 0.9}, {"value": 0.5, "low": 0.2, "high": 1.5}]
)
def test_an_assumption_outside_its_range_is_refused(census: Path, value: dict[str, float]) -> None:
    with pytest.raises(ProfileError, match="visible_share"):
        parse(cafe(census, visible_share=value))


def test_a_missing_or_malformed_census_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CensusError, match="make census"):
        load_census(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text('{"customer": {}}', encoding="utf-8")
    with pytest.raises(CensusError, match="not a census"):
        load_census(tmp_path / "bad.json")


def test_the_checked_in_census_loads_and_names_its_source() -> None:
    checked_in = load_census(CENSUS)
    assert checked_in.customer_per_visible_minute and checked_in.board_per_open_hour
    assert "measured here" in checked_in.source


def test_queue_by_littles_law(census: Path) -> None:
    p = parse({**cafe(census), "store": {"max_waiting": 20}})
    # 3,000 orders over 30 days × 12 h = 8.33 an hour = 0.139 a minute; × 5 min waiting, × 1 min ready
    queue = p.queue()
    assert queue.waiting == pytest.approx(3000 / 360 / 60 * 5)
    assert queue.ready == pytest.approx(3000 / 360 / 60)
    assert queue.ids_in_set == pytest.approx(queue.waiting + (20 - queue.waiting) / 2)


def test_units_follow_dynamodbs_rules_on_the_stores_own_items() -> None:
    sizes = representative_sizes()
    assert 500 < sizes.order_placed < sizes.order_completed < 4096
    units = units_per_route(Queue(waiting=3, ready=1, ids_in_set=10))
    reads, writes = units["POST /orders"]
    # One consistent read of the record; the store item, and three items written in a transaction
    # (twice the units), plus the new order's index entry.
    assert reads == 1 and writes >= 1 + 2 * 3 + 1
    assert units["GET /orders/{order_id}"] == (1, 0)
    assert units["GET /store"][0] == 1 + 10  # the query and one consistent read per id in the set
    # An eventually consistent index query: half a unit per 4 KB of the orders it returns.
    assert units["GET /pickup"][0] == 1.0  # 4 orders of ≈ 1.2 KB: 2 × 4 KB
    assert units_per_route(Queue(waiting=1, ready=1, ids_in_set=1))["GET /pickup"][0] == 0.5


# -- CALLS is what the code does ------------------------------------------------------------------

STAFF = "traffic-test-staff-token"


@pytest.fixture
def api() -> Iterator[tuple[CafeApi, DynamoDBStore]]:
    with mock.patch.dict(os.environ, DUMMY_ENVIRONMENT), mock_aws():
        store = DynamoDBStore("cafe-traffic", region=REGION)
        create_table(store.client, "cafe-traffic")
        service = CafeService(store, load_menu("KRW"), zone=ZoneInfo("Asia/Seoul"))
        yield (
            CafeApi(
                service,
                runtime="lambda",
                staff_token=STAFF,
                telemetry=Telemetry("lambda"),
                guard=StaffGuard(),
            ),
            store,
        )


def test_calls_per_route_are_the_codes(api: tuple[CafeApi, DynamoDBStore]) -> None:
    cafe_api, store = api
    body = {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 1, "options": {}}]}

    def send(method: str, path: str, document: Any = None, **headers: str) -> Any:
        names = {"authorization": f"Bearer {STAFF}", **headers}
        payload = b"" if document is None else json.dumps(document).encode()
        response = cafe_api.handle(Request(method, path.split("?")[0], names, {}, payload))
        assert response.status < 300, response.body
        return response.json() if response.body else None

    placed = send("POST", "/orders", body, **{"idempotency-key": "k-1"})
    requests = {
        "POST /orders": lambda: send("POST", "/orders", body, **{"idempotency-key": "k-2"}),
        "GET /menu": lambda: send("GET", "/menu"),
        "GET /orders/{order_id}": lambda: send("GET", f"/orders/{placed['id']}"),
        "GET /orders": lambda: send("GET", "/orders"),
        "GET /pickup": lambda: send("GET", "/pickup"),
        "GET /store": lambda: send("GET", "/store"),
        "PUT /store": lambda: send("PUT", "/store", {"open": True, "max_waiting": 20}),
        "PATCH /menu/{item_id}": lambda: send("PATCH", "/menu/espresso", {"available": True}),
    }
    for route, request in requests.items():
        store._seen.clear()  # as a process that has not seen the order (the deployed common case)
        with RoundTripCounter.attached(store.client) as trips:
            request()
        assert trips.by_operation() == CALLS[route], route
    for route, path, document in [
        ("POST /orders/{order_id}/status", f"/orders/{placed['id']}/status", {"status": "PREPARING"}),
        ("POST /orders/{order_id}/cancel", f"/orders/{send('POST', '/orders', body)['id']}/cancel", None),
    ]:
        store._seen.clear()
        with RoundTripCounter.attached(store.client) as trips:
            send("POST", path, document)
        assert trips.by_operation() == CALLS[route], route
    assert set(CALLS) == {*requests, "POST /orders/{order_id}/status", "POST /orders/{order_id}/cancel"}


# -- shapes that work ---------------------------------------------------------------------------


def test_a_shape_that_cannot_serve_the_barista_page_is_refused(census: Path) -> None:
    for runtime in ("ec2", "fargate"):
        with pytest.raises(ProfileError, match=rf"{runtime}\.alb true .* {runtime}\.staff_over_http"):
            parse({**cafe(census), runtime: {"alb": False}})
        assert not parse({**cafe(census), runtime: {"alb": False, "staff_over_http": True}}).inputs.has(
            f"{runtime}.missing"
        )


def test_a_savings_plan_for_ec2_covers_fargate_and_lambda_duration(census: Path) -> None:
    from compare.cost import lambda_
    from compare.cost.prices import PriceBook

    book = PriceBook.load("us-east-1")
    planned = parse({**cafe(census), "ec2": {"pricing": "savings-plan-1y"}})
    assert planned.fargate.pricing == "savings-plan-1y" and planned.lambda_.savings_plan == "savings-plan-1y"
    assert "covers it too" in planned.inputs.label("fargate.pricing")
    items = lambda_.estimate(planned, book).items
    duration = sum(i.usd for i in items if i.name.startswith("Lambda duration"))
    (plan,) = [i for i in items if i.name.startswith("Compute Savings Plan")]
    assert plan.usd == pytest.approx(-duration * book.discount("lambda.savings_plan_1y").fraction)
    # Said otherwise in the profile, or a Spot task: no plan follows.
    own = parse({**cafe(census), "ec2": {"pricing": "savings-plan-1y"}, "fargate": {"spot": True}})
    assert own.fargate.pricing == "on-demand" and own.fargate.spot
    assert parse(cafe(census)).lambda_.savings_plan == "none"
