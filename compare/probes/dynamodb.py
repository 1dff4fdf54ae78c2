"""The deployed store path: DynamoDB through boto3, served by a moto server outside the envelopes.

On AWS every runtime talks to DynamoDB through boto3; locally the windows use SQLite, far cheaper
in CPU. So the comparison measures CPU per request (and Lambda's billed duration) a second time
with the runtimes on DynamoDB: a moto server in its own process on 127.0.0.1, outside every
envelope and driven at a rate low enough that it is not the bottleneck. moto answers in about
2 ms; that is not DynamoDB's latency, so these windows give CPU and billed duration, never latency.
With `delayed=True` the same server holds every call for a draw of the modeled per-operation latency
(compare.probes.dynamodelay): the deployed path's latency and capacity are measured against that,
labelled as emulated with modeled delays; the CPU windows above turn the delays off.

Round trips per operation are a property of the shared code, the same on all three runtimes:
each operation of the café mix runs once through the whole shared API in this process against
the same moto server, counted with botocore's own events (`cafe.stores.round_trips`).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compare.local.processes import free_port, health_status, stop_processes
from compare.local.runtimes import ROOT

STAFF = "round-trip-count"  # a throwaway token for the in-process API (never a deployed one)
ORDER = {"customer": "Count", "items": [{"item_id": "americano", "quantity": 1, "options": {}}]}
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass(frozen=True)
class DynamoEndpoint:
    url: str
    table: str
    delayed: bool = False  # each call held for a draw of the modeled latency (compare.probes.dynamodelay)

    def store_env(self) -> dict[str, str]:
        """What a runtime needs to run on this table (the deployed store path)."""
        return {
            "CAFE_STORE": "dynamodb",
            "CAFE_DYNAMODB_ENDPOINT": self.url,
            "CAFE_TABLE": self.table,
            **FAKE_CREDENTIALS,
        }


def client_for(url: str) -> Any:
    """A boto3 DynamoDB client on this endpoint, as a runtime builds one (fake credentials)."""
    import boto3

    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1", **_credentials())


def _credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def new_table(url: str) -> str:
    from cafe.stores.dynamodb import create_table

    table = f"cafe-compare-{uuid.uuid4().hex[:8]}"
    create_table(client_for(url), table)
    return table


@contextmanager
def moto_dynamodb(
    log_dir: Path, timeout_s: float = 30.0, delayed: bool = False, seed: int = 0
) -> Iterator[DynamoEndpoint]:
    """A moto server on a free port with one fresh café table; stopped on exit. `delayed`: each
    DynamoDB call answered after a draw of its modeled latency (compare.probes.dynamodelay)."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    if delayed:
        argv = [sys.executable, "-m", "compare.probes.dynamodelay", "--seed", str(seed)]
    else:
        argv = [str(Path(sys.executable).with_name("moto_server"))]
    with open(log_dir / "moto.log", "ab") as log:
        process = subprocess.Popen(
            [*argv, "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **FAKE_CREDENTIALS},
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while health_status(port, "/moto-api/") is None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"moto server did not start (log: {log_dir / 'moto.log'})")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        yield DynamoEndpoint(url, new_table(url), delayed)
    finally:
        stop_processes([process], grace=5.0)


def _request(
    method: str, path: str, body: Any = None, query: dict[str, str] | None = None, **headers: str
) -> Any:
    from cafe.api import Request

    payload = json.dumps(body).encode() if body is not None else b""
    lowered = {name.replace("_", "-").lower(): value for name, value in headers.items()}
    if body is not None:
        lowered["content-type"] = "application/json"
    return Request(method=method, path=path, headers=lowered, query=query or {}, body=payload)


def _staff(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
    return _request(method, path, body, query, authorization=f"Bearer {STAFF}")


def round_trips(endpoint: DynamoEndpoint) -> dict[str, int]:
    """DynamoDB requests per operation of the café mix, through the whole shared API."""
    from cafe.api import build_api
    from cafe.config import Config
    from cafe.stores.round_trips import RoundTripCounter

    # The in-process API builds its own boto3 client from the environment: give it moto's dummy
    # credentials where none are set (any real ones would only ever be sent to the local moto).
    os.environ.update({k: v for k, v in FAKE_CREDENTIALS.items() if k not in os.environ})
    config = Config(
        store="dynamodb", dynamodb_endpoint=endpoint.url, table=new_table(endpoint.url), staff_token=STAFF
    )
    api = build_api("compare", config)
    client = api.service.store.client  # type: ignore[attr-defined]

    def count(request: Callable[[], Any]) -> tuple[int, Any]:
        # The API's metrics go to stdout as EMF (CloudWatch's format): not into the comparison's output.
        with RoundTripCounter.attached(client) as trips, redirect_stdout(io.StringIO()):
            response = api.handle(request())
        if response.status >= 500:
            raise RuntimeError(f"{response.status} while counting round trips: {response.body!r}")
        return trips.total, response

    counts: dict[str, int] = {}
    counts["GET /menu"], _ = count(lambda: _request("GET", "/menu"))
    key = uuid.uuid4().hex
    counts["POST /orders (Idempotency-Key)"], placed = count(
        lambda: _request("POST", "/orders", ORDER, idempotency_key=key)
    )
    counts["POST /orders (same key again)"], _ = count(
        lambda: _request("POST", "/orders", ORDER, idempotency_key=key)
    )
    counts["POST /orders (no key)"], other = count(lambda: _request("POST", "/orders", ORDER))
    order_id = json.loads(placed.body)["id"]
    counts["GET /orders/{id}"], _ = count(lambda: _request("GET", f"/orders/{order_id}"))
    counts["GET /orders?status= (queue)"], _ = count(
        lambda: _staff("GET", "/orders", query={"status": "PLACED"})
    )
    counts["GET /pickup"], _ = count(lambda: _request("GET", "/pickup"))
    counts["POST /orders/{id}/status"], _ = count(
        lambda: _staff("POST", f"/orders/{order_id}/status", {"status": "PREPARING"})
    )
    other_id = json.loads(other.body)["id"]
    counts["POST /orders/{id}/cancel"], _ = count(lambda: _request("POST", f"/orders/{other_id}/cancel"))
    return counts
