"""DynamoDB round trips and CPU per request, per operation (issue 14).

Every operation goes through the whole shared API (``CafeApi.handle``: routing, parsing, the
service, the DynamoDB store, JSON out) in this process, against DynamoDB served by moto in a
*separate* process on 127.0.0.1, so the CPU measured here (``time.process_time``) is the
café's own: botocore building, signing and parsing requests, our item encoding, the service.
Round trips are counted through botocore's event hooks (``cafe.stores.round_trips``).
moto's server (werkzeug) closes every connection, so here each DynamoDB request also pays for
a new TCP connection, which a DynamoDB client keeps alive: per-request CPU is overstated by
the same amount per round trip before and after a change.

Each round gives every operation a fresh table, seeded by a second API instance (another
"runtime": its store and caches are not the measured one's), then runs the operation
``--requests`` times; operations are interleaved round by round and the CPU figure is the
median of the rounds' means. Measured here, not on AWS (no network latency at all).

    .venv/bin/python bench/dynamodb_path.py --requests 40 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sample_order import ORDER  # noqa: E402
from cafe.api import CafeApi, Request, build_api  # noqa: E402
from cafe.config import Config  # noqa: E402
from cafe.stores.round_trips import RoundTripCounter  # noqa: E402

STAFF_TOKEN = "bench-token"  # noqa: S105 - a throwaway token for a local benchmark


@dataclass
class Cafe:
    """The measured API and a second one on the same table that seeds it."""

    api: CafeApi
    other: CafeApi

    def place(self, api: CafeApi | None = None, key: str | None = None) -> dict[str, Any]:
        headers = {"idempotency-key": key} if key else {}
        response = (api or self.other).handle(post("/orders", ORDER, headers))
        assert response.status == 201, response.body
        placed: dict[str, Any] = response.json()
        return placed

    def staff(self, api: CafeApi, path: str, status: str) -> None:
        response = api.handle(post(path, {"status": status}, staff=True))
        assert response.status == 200, response.body


def request(
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    staff: bool = False,
) -> Request:
    all_headers = {"content-type": "application/json", **(headers or {})}
    if staff:
        all_headers["authorization"] = f"Bearer {STAFF_TOKEN}"
    return Request(
        method=method,
        path=path,
        headers=all_headers,
        query=query or {},
        body=b"" if body is None else json.dumps(body).encode(),
        request_id="bench",
    )


def post(path: str, body: Any, headers: dict[str, str] | None = None, staff: bool = False) -> Request:
    return request("POST", path, body, headers, staff=staff)


def _seed_board(cafe: Cafe) -> None:
    """A café at a busy moment: 5 orders placed, 5 in preparation, 5 ready for pickup."""
    for status in ("PLACED", "PREPARING", "READY"):
        for _ in range(5):
            order = cafe.place()
            if status in ("PREPARING", "READY"):
                cafe.staff(cafe.other, f"/orders/{order['id']}/status", "PREPARING")
            if status == "READY":
                cafe.staff(cafe.other, f"/orders/{order['id']}/status", "READY")


# Each scenario seeds the table and returns the n requests to measure, with their status.
Prepare = Callable[[Cafe, int], tuple[list[Request], int]]


def _menu(cafe: Cafe, n: int) -> tuple[list[Request], int]:
    return [request("GET", "/menu") for _ in range(n)], 200


def _place_keyed(cafe: Cafe, n: int) -> tuple[list[Request], int]:
    return [post("/orders", ORDER, {"idempotency-key": str(uuid.uuid4())}) for _ in range(n)], 201


def _replay(cafe: Cafe, n: int) -> tuple[list[Request], int]:
    key = str(uuid.uuid4())
    cafe.place(cafe.api, key)  # the first request went through the measured runtime
    return [post("/orders", ORDER, {"idempotency-key": key}) for _ in range(n)], 201


def _place(cafe: Cafe, n: int) -> tuple[list[Request], int]:
    return [post("/orders", ORDER) for _ in range(n)], 201


BARISTA_STEPS = ("PREPARING", "READY", "COMPLETED")


def _transition(action: str, seen_here: bool, target: str = "PREPARING") -> Prepare:
    def prepare(cafe: Cafe, n: int) -> tuple[list[Request], int]:
        # Placed and brought to the step before ``target`` through the measured runtime (it has
        # seen the order) or through the other one.
        runtime = cafe.api if seen_here else cafe.other
        orders = [cafe.place(runtime) for _ in range(n)]
        for order in orders:
            for step in BARISTA_STEPS[: BARISTA_STEPS.index(target)]:
                moved = runtime.handle(post(f"/orders/{order['id']}/status", {"status": step}, staff=True))
                assert moved.status == 200, moved.body
        if action == "status":
            return [post(f"/orders/{o['id']}/status", {"status": target}, staff=True) for o in orders], 200
        return [post(f"/orders/{o['id']}/cancel", {}) for o in orders], 200

    return prepare


def _queue(cafe: Cafe, n: int) -> tuple[list[Request], int]:
    _seed_board(cafe)
    headers = {"authorization": f"Bearer {STAFF_TOKEN}"}
    return [
        request("GET", "/orders", headers=headers, query={"status": "PLACED,PREPARING"}) for _ in range(n)
    ], 200


def _pickup(cafe: Cafe, n: int) -> tuple[list[Request], int]:
    _seed_board(cafe)
    return [request("GET", "/pickup") for _ in range(n)], 200


def _get_order(cafe: Cafe, n: int) -> tuple[list[Request], int]:
    order = cafe.place()
    return [request("GET", f"/orders/{order['id']}") for _ in range(n)], 200


@dataclass(frozen=True)
class Scenario:
    name: str
    goal: str
    prepare: Prepare


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("POST /orders with Idempotency-Key", "≤ 3", _place_keyed),
    Scenario("POST /orders, same key again after success", "1", _replay),
    Scenario("POST /orders without a key", "≤ 2", _place),
    Scenario("POST /orders/{id}/status, order seen by this runtime", "1", _transition("status", True)),
    Scenario("POST /orders/{id}/status, order placed elsewhere", "1", _transition("status", False)),
    Scenario(
        "POST /orders/{id}/status to READY, order moved elsewhere", "1", _transition("status", False, "READY")
    ),
    Scenario(
        "POST /orders/{id}/status to COMPLETED, order moved elsewhere",
        "1",
        _transition("status", False, "COMPLETED"),
    ),
    Scenario("POST /orders/{id}/cancel, order seen by this runtime", "1", _transition("cancel", True)),
    Scenario("POST /orders/{id}/cancel, order placed elsewhere", "1", _transition("cancel", False)),
    Scenario("GET /orders?status=PLACED,PREPARING (queue)", "1", _queue),
    Scenario("GET /pickup", "1", _pickup),
    Scenario("GET /menu", "1", _menu),
    Scenario("GET /orders/{id}", "1", _get_order),
)


@dataclass
class Measurement:
    operations: list[str]  # the DynamoDB requests of the first measured request, in order
    round_trips: float  # mean per request over all measured requests
    cpu_ms: float  # process CPU per request
    wall_ms: float  # median wall time per request (moto on this machine: no network)


def new_cafe(table: str, endpoint: str | None) -> Cafe:
    from cafe.stores.dynamodb import create_table

    def api() -> CafeApi:
        config = Config(store="dynamodb", table=table, dynamodb_endpoint=endpoint, staff_token=STAFF_TOKEN)
        return build_api("local", config)

    cafe = Cafe(api(), api())
    create_table(cafe.other.service.store.client, table)  # type: ignore[attr-defined]
    response = cafe.other.handle(request("PUT", "/store", {"open": True, "max_waiting": 100_000}, staff=True))
    assert response.status == 200, response.body
    return cafe


def measure(scenario: Scenario, endpoint: str | None, n: int) -> Measurement:
    """Run one scenario on a fresh table: seed it, then time ``n`` requests of the operation."""
    cafe = new_cafe(f"cafe-bench-{uuid.uuid4().hex[:10]}", endpoint)
    client = cafe.api.service.store.client  # type: ignore[attr-defined]
    cafe.api.handle(request("GET", "/health"))
    requests, expected = scenario.prepare(cafe, n)
    walls: list[float] = []
    with RoundTripCounter.attached(client) as trips:
        first: list[str] = []
        cpu_start = time.process_time()
        for index, cafe_request in enumerate(requests):
            started = time.perf_counter()
            response = cafe.api.handle(cafe_request)
            walls.append(time.perf_counter() - started)
            if index == 0:
                first = trips.operations
            assert response.status == expected, (scenario.name, response.status, response.body)
        cpu = time.process_time() - cpu_start
    client.delete_table(TableName=cafe.api.service.store.table_name)  # type: ignore[attr-defined]
    return Measurement(first, trips.total / n, 1000 * cpu / n, 1000 * statistics.median(walls))


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    """moto's server in its own process: its CPU is not the café's."""
    import httpx

    from devtools.local import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{endpoint}/moto-api/", timeout=1)
            return server, endpoint
        except httpx.HTTPError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=100, help="measured requests per operation and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    from devtools.local import stop_processes

    server, endpoint = start_moto()
    results: dict[str, list[Measurement]] = {scenario.name: [] for scenario in SCENARIOS}
    try:
        # Metrics go to stdout as EMF lines (one per order placed): keep them out of the table.
        with open(os.devnull, "w") as sink, redirect_stdout(sink):
            for _ in range(args.rounds):
                for scenario in SCENARIOS:
                    results[scenario.name].append(measure(scenario, endpoint, args.requests))
    finally:
        stop_processes([server])

    print(
        f"DynamoDB path: moto server in its own process; {args.requests} requests per operation"
        f" × {args.rounds} rounds (interleaved); CPU = this process's time.process_time"
    )
    print(
        "| operation | DynamoDB round trips | goal | requests (first of the run)"
        " | CPU ms/request (median) | wall ms p50 |"
    )
    print("|---|---|---|---|---|---|")
    for scenario in SCENARIOS:
        runs = results[scenario.name]
        trips = statistics.median(run.round_trips for run in runs)
        cpu = statistics.median(run.cpu_ms for run in runs)
        wall = statistics.median(run.wall_ms for run in runs)
        print(
            f"| `{scenario.name}` | {trips:g} | {scenario.goal} | {', '.join(runs[0].operations)} |"
            f" {cpu:.2f} | {wall:.2f} |"
        )


if __name__ == "__main__":
    main()
