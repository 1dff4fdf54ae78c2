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


# -- batching on the server runtimes ---------------------------------------------------------


def emf_lines(text: str) -> list[dict]:
    return [line for line in json_lines(text) if "_aws" in line]


def test_the_flush_interval_is_zero_on_lambda_and_a_second_on_the_servers():
    from cafe.observability import flush_interval_for

    assert flush_interval_for("lambda", {}) == 0
    assert flush_interval_for("fargate", {}) == flush_interval_for("ec2", {}) == 1.0
    assert flush_interval_for("ec2", {"CAFE_METRICS_FLUSH_SECONDS": "0"}) == 0
    assert flush_interval_for("lambda", {"CAFE_METRICS_FLUSH_SECONDS": "2.5"}) == 2.5


def test_a_batch_becomes_one_line_with_counts_summed_and_every_value_kept(capsys):
    from cafe.observability import Telemetry

    telemetry = Telemetry("fargate", flush_interval=60)
    capsys.readouterr()
    for value in (4500, 5000, 3000):
        telemetry.order_placed(value)
    telemetry.request_rejected(409, "invalid_transition")
    assert not emf_lines(capsys.readouterr().out), "written before the interval ran out"
    telemetry.flush_metrics()
    (line,) = emf_lines(capsys.readouterr().out)
    assert line["OrdersPlaced"] == [3.0] and line["RejectedRequests"] == [1.0]
    assert line["OrderValue"] == [4500.0, 5000.0, 3000.0]
    assert line["runtime"] == "fargate"
    telemetry.flush_metrics()
    assert not emf_lines(capsys.readouterr().out), "an empty batch wrote a line"


def test_a_batch_is_written_by_the_timer_without_another_event(capsys):
    import time

    from cafe.observability import Telemetry

    telemetry = Telemetry("ec2", flush_interval=0.05)
    capsys.readouterr()
    telemetry.order_placed(4500)
    deadline = time.monotonic() + 5
    written: list[dict] = []
    while not written and time.monotonic() < deadline:
        time.sleep(0.02)
        written = emf_lines(capsys.readouterr().out)
    assert [line["OrderValue"] for line in written] == [[4500.0]]


def test_lambda_writes_each_event_at_once(capsys):
    from cafe.observability import Telemetry

    telemetry = Telemetry("lambda", flush_interval=0)
    capsys.readouterr()
    telemetry.order_placed(4500)
    assert [line["OrderValue"] for line in emf_lines(capsys.readouterr().out)] == [[4500.0]]


def test_a_server_writes_what_waits_when_it_exits():
    import subprocess
    import sys

    code = (
        "from cafe.observability import Telemetry\n"
        "t = Telemetry('ec2', flush_interval=3600)\n"
        "t.order_placed(4500)\n"
        "t.order_placed(5000)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    (line,) = emf_lines(out)
    assert line["OrdersPlaced"] == [2.0] and line["OrderValue"] == [4500.0, 5000.0]
