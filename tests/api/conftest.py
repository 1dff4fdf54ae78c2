from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cafe.api import CafeApi
from cafe.domain.menu import load_menu
from cafe.domain.orders import Status
from cafe.observability import Telemetry
from cafe.service import CafeService
from cafe.stores.memory import MemoryStore
from tests.api.clients import ChaliceClient, Client, Result, ec2_client, fargate_client

STAFF_TOKEN = "test-staff-token-0123456789"
FACTORIES = {"lambda": ChaliceClient, "fargate": fargate_client, "ec2": ec2_client}


class Cafe:
    """A runtime's in-process client plus the store behind it, with JSON helpers."""

    def __init__(self, client: Client, store: MemoryStore) -> None:
        self.client = client
        self.store = store
        self.runtime = client.runtime

    def call(
        self,
        method: str,
        path: str,
        document: Any = None,
        *,
        body: bytes | None = None,
        staff: bool | str = False,
        headers: dict[str, str] | None = None,
    ) -> Result:
        headers = {"Content-Type": "application/json", **(headers or {})}
        if staff:
            headers["Authorization"] = f"Bearer {STAFF_TOKEN if staff is True else staff}"
        if document is not None:
            body = json.dumps(document).encode()
        return self.client.request(method, path, body=body, headers=headers)

    def stored_orders(self) -> int:
        return sum(len(self.store.list_by_status(status, 1000)) for status in Status)


_clients: dict[str, Client] = {}


@pytest.fixture(params=list(FACTORIES))
def cafe(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cafe]:
    runtime = request.param
    if runtime not in _clients:  # importing an adapter builds its app once; reuse it
        _clients[runtime] = FACTORIES[runtime]()
    client = _clients[runtime]
    store = MemoryStore()
    service = CafeService(store, load_menu(), zone=ZoneInfo("Asia/Seoul"))
    api = CafeApi(service, runtime=runtime, staff_token=STAFF_TOKEN, telemetry=Telemetry(runtime))
    monkeypatch.setattr(client.module, "cafe_api", api)
    yield Cafe(client, store)
