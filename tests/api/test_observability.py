"""Every runtime logs JSON lines with request id, runtime and order id, and emits EMF metrics."""

from __future__ import annotations

import io
import json

ORDER = {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 2}]}


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_order_placed_emits_metrics(cafe, capsys):
    capsys.readouterr()
    order = cafe.call("POST", "/orders", ORDER).json()
    emf = [line for line in json_lines(capsys.readouterr().out) if "_aws" in line]
    assert emf, "no EMF line written"
    metrics = {m["Name"] for d in emf[-1]["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert {"OrdersPlaced", "OrderValue"} <= metrics
    assert emf[-1]["runtime"] == cafe.runtime
    assert emf[-1]["OrderValue"] == [order["total"]]


def test_a_replayed_key_is_not_counted_as_a_second_sale(cafe, capsys):
    headers = {"Idempotency-Key": "replay-metrics-1"}
    cafe.call("POST", "/orders", ORDER, headers=headers)
    capsys.readouterr()
    again = cafe.call("POST", "/orders", ORDER, headers=headers)
    assert again.status == 201
    emf = [line for line in json_lines(capsys.readouterr().out) if "_aws" in line]
    assert not [line for line in emf if "OrdersPlaced" in line]


def test_rejections_are_logged_with_request_and_runtime(cafe, capsys):
    order = cafe.call("POST", "/orders", ORDER).json()
    # The Logger's handler keeps the stream it was created with: point it at a buffer.
    handler = cafe.client.module.cafe_api.telemetry.logger.registered_handler
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    capsys.readouterr()
    try:
        cafe.call("POST", f"/orders/{order['id']}/status", {"status": "COMPLETED"}, staff=True)
    finally:
        handler.setStream(previous)
    lines = json_lines(buffer.getvalue() + capsys.readouterr().out)
    log = next(line for line in lines if line.get("message") == "request rejected")
    assert log["runtime"] == cafe.runtime
    assert log["order_id"] == order["id"]
    assert log["status"] == 409 and log["request_id"]
    assert any("RejectedRequests" in line for line in lines)
