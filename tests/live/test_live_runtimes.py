"""The three real runtime processes (the Makefile's run-* commands) on one SQLite file."""

from __future__ import annotations

import itertools
import json
import os
import signal
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from devtools.local import LocalCafe, free_port

pytestmark = pytest.mark.live
ORDER = {
    "customer": "Park",
    "items": [{"item_id": "americano", "quantity": 1, "options": {"temperature": "iced"}}],
}


def staff(cafe: LocalCafe) -> dict[str, str]:
    return {"Authorization": f"Bearer {cafe.staff_token}"}


def call(
    url: str, method: str, path: str, document: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.request(method, url + path, json=document, headers=headers, timeout=60)


@pytest.fixture(autouse=True)
def roomy_store(live_cafe: LocalCafe) -> None:
    response = call(
        live_cafe.urls["ec2"], "PUT", "/store", {"open": True, "max_waiting": 1000}, staff(live_cafe)
    )
    assert response.status_code == 200


def all_orders(cafe: LocalCafe) -> list[dict[str, Any]]:
    statuses = "PLACED,PREPARING,READY,COMPLETED,CANCELLED"
    response = call(cafe.urls["fargate"], "GET", f"/orders?status={statuses}&limit=500", headers=staff(cafe))
    assert response.status_code == 200
    return list(response.json()["orders"])


def test_each_runtime_says_who_it_is(live_cafe):
    for runtime, url in live_cafe.urls.items():
        assert call(url, "GET", "/health").json()["runtime"] == runtime


def test_an_order_travels_across_runtimes(live_cafe):
    urls = live_cafe.urls
    order = call(urls["lambda"], "POST", "/orders", ORDER).json()
    assert call(urls["fargate"], "GET", f"/orders/{order['id']}").json()["number"] == order["number"]
    moved = call(
        urls["ec2"], "POST", f"/orders/{order['id']}/status", {"status": "PREPARING"}, staff(live_cafe)
    )
    assert moved.status_code == 200
    ready = call(
        urls["fargate"], "POST", f"/orders/{order['id']}/status", {"status": "READY"}, staff(live_cafe)
    )
    assert ready.status_code == 200
    seen = call(urls["lambda"], "GET", f"/orders/{order['id']}").json()
    assert seen["status"] == "READY"
    assert [h["status"] for h in seen["history"]] == ["PLACED", "PREPARING", "READY"]


def test_200_concurrent_placements_make_200_orders_with_distinct_numbers(live_cafe):
    before = {o["id"] for o in all_orders(live_cafe)}
    targets = list(itertools.islice(itertools.cycle(live_cafe.urls.values()), 200))
    with ThreadPoolExecutor(max_workers=24) as pool:
        responses = list(pool.map(lambda url: call(url, "POST", "/orders", ORDER), targets))
    assert Counter(r.status_code for r in responses) == {201: 200}
    placed = [r.json() for r in responses]
    assert len({o["id"] for o in placed}) == 200
    days = {o["business_day"] for o in placed}
    numbers = [(o["business_day"], o["number"]) for o in placed]
    assert len(set(numbers)) == 200, "two orders share a pickup number"
    stored = {o["id"] for o in all_orders(live_cafe)} - before
    assert stored == {o["id"] for o in placed}
    assert len(days) <= 2  # a run across midnight in Seoul spans two days, never more


def test_one_idempotency_key_sent_20_times_concurrently_makes_one_order(live_cafe):
    key = str(uuid.uuid4())
    before = len(all_orders(live_cafe))
    targets = list(itertools.islice(itertools.cycle(live_cafe.urls.values()), 20))
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(
            pool.map(lambda url: call(url, "POST", "/orders", ORDER, {"Idempotency-Key": key}), targets)
        )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(all_orders(live_cafe)) == before + 1


def test_10_concurrent_identical_transitions_exactly_one_succeeds(live_cafe):
    order = call(live_cafe.urls["lambda"], "POST", "/orders", ORDER).json()
    targets = list(itertools.islice(itertools.cycle(live_cafe.urls.values()), 10))
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(
            pool.map(
                lambda url: call(
                    url, "POST", f"/orders/{order['id']}/status", {"status": "PREPARING"}, staff(live_cafe)
                ),
                targets,
            )
        )
    assert Counter(r.status_code for r in responses) == {200: 1, 409: 9}
    final = call(live_cafe.urls["ec2"], "GET", f"/orders/{order['id']}").json()
    assert final["version"] == 2 and len(final["history"]) == 2


BAD_BODIES = [
    (b"{not json", 400),
    (json.dumps({"customer": "Kim", "items": [{"item_id": "americano", "quantity": "1"}]}).encode(), 422),
    (json.dumps({"customer": "Kim", "items": [{"item_id": "no-such-thing", "quantity": 1}]}).encode(), 422),
    (json.dumps({"customer": "Kim", "items": [{"item_id": "americano", "quantity": 99}]}).encode(), 422),
    (
        json.dumps(
            {
                "customer": "Kim",
                "items": [{"item_id": "americano", "quantity": 1, "options": {"milk": "oat"}}],
            }
        ).encode(),
        422,
    ),
    (
        json.dumps(
            {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 1}], "x": "y" * 70_000}
        ).encode(),
        413,
    ),
]


@pytest.mark.parametrize("runtime", ["lambda", "fargate", "ec2"])
def test_bad_input_gets_4xx_json_and_stores_nothing(live_cafe, runtime):
    before = len(all_orders(live_cafe))
    for body, status in BAD_BODIES:
        response = httpx.post(
            live_cafe.urls[runtime] + "/orders",
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == status, (body[:60], response.text)
        assert "error" in response.json()
    assert len(all_orders(live_cafe)) == before


@pytest.mark.parametrize("runtime", ["fargate", "ec2"])
def test_an_acknowledged_order_survives_kill_9(tmp_path, runtime):
    env = {
        "CAFE_STORE": "sqlite",
        "CAFE_SQLITE_PATH": str(tmp_path / "cafe.sqlite3"),
        "CAFE_STAFF_TOKEN": "t",
    }
    cafe = LocalCafe(env=env, ports={runtime: free_port()}, log_dir=tmp_path, runtimes=(runtime,)).start()
    try:
        created = call(cafe.urls[runtime], "POST", "/orders", ORDER)
        assert created.status_code == 201
        for process in cafe.processes.values():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    finally:
        cafe.stop()
    with LocalCafe(env=env, ports={runtime: free_port()}, log_dir=tmp_path, runtimes=(runtime,)) as restarted:
        again = call(restarted.urls[runtime], "GET", f"/orders/{created.json()['id']}")
        assert again.status_code == 200
        assert again.json()["number"] == created.json()["number"]
