"""SQLite under a write lock held too long: a 503 with Retry-After that stores nothing, not a 500."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cafe.api import CafeApi, Request, StaffGuard
from cafe.domain.menu import load_menu
from cafe.observability import Telemetry
from cafe.service import CafeService
from cafe.stores import sqlite
from cafe.stores.sqlite import SQLiteStore

STAFF_TOKEN = "sqlite-fault-staff-token"
ORDER = {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 1, "options": {}}]}


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CafeApi, Path]]:
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT", 0.05)  # wait a moment for the lock, not 30 s
    path = tmp_path / "cafe.sqlite3"
    store = SQLiteStore(str(path))
    service = CafeService(store, load_menu("KRW"), zone=ZoneInfo("Asia/Seoul"))
    yield (
        CafeApi(
            service, runtime="ec2", staff_token=STAFF_TOKEN, telemetry=Telemetry("ec2"), guard=StaffGuard()
        ),
        path,
    )
    store.close()


def call(api: CafeApi, method: str, path: str, body: object = None, **headers: str) -> tuple[int, dict, dict]:
    names = {"authorization": f"Bearer {STAFF_TOKEN}", **headers}
    response = api.handle(
        Request(method, path, names, {}, b"" if body is None else json.dumps(body).encode())
    )
    return response.status, response.json() if response.body else {}, response.headers


def test_a_write_that_cannot_get_the_lock_is_503_and_stores_nothing(api: tuple[CafeApi, Path]) -> None:
    cafe, path = api
    status, placed, _ = call(cafe, "POST", "/orders", ORDER)
    assert status == 201
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer, holding on
    other.execute("BEGIN IMMEDIATE")
    try:
        for method, url, body in [
            ("POST", "/orders", ORDER),
            ("POST", f"/orders/{placed['id']}/status", {"status": "PREPARING"}),
            ("PUT", "/store", {"open": False, "max_waiting": 5}),
            ("PATCH", "/menu/espresso", {"available": False}),
        ]:
            status, document, headers = call(cafe, method, url, body)
            assert status == 503, (url, document)
            assert document["error"]["code"] == "unavailable"
            assert int(headers["Retry-After"]) > 0
    finally:
        other.execute("ROLLBACK")
        other.close()
    status, store, _ = call(cafe, "GET", "/store")
    assert (status, store["open"], store["waiting"]) == (200, True, 1)
    assert call(cafe, "GET", f"/orders/{placed['id']}")[1]["version"] == 1
    assert call(cafe, "POST", "/orders", ORDER)[0] == 201
