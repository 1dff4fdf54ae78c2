"""The delayed DynamoDB (compare.probes.dynamodelay): delays drawn from the projection's own
per-operation distributions, concurrent calls waiting concurrently, lateness counted as the store's."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest

from compare.aws_model import LogNormal, load_overheads
from compare.probes.dynamodelay import (
    KEPT_UP_EXCESS_MS,
    RESET_PATH,
    STATS_PATH,
    DelayedDynamo,
    delays_from,
    operation,
    store_window,
)


def _environ(op: str | None, body: bytes = b"{}") -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    if op is not None:
        env["HTTP_X_AMZ_TARGET"] = f"DynamoDB_20120810.{op}"
    return env


def _moto(work_s: float = 0.0) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["wsgi.input"].read()
        if work_s:
            time.sleep(work_s)
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0")])
        return [b"{}"]

    return app


def _call(app: DelayedDynamo, environ: dict[str, Any]) -> bytes:
    return b"".join(app(environ, lambda status, headers, exc=None: None))


def _stats(app: DelayedDynamo) -> dict[str, Any]:
    return json.loads(_call(app, {"PATH_INFO": STATS_PATH}))  # type: ignore[no-any-return]


def test_the_delays_are_the_overheads_files_figures() -> None:
    overheads = load_overheads()
    delays = delays_from(overheads)
    for op in ("GetItem", "PutItem", "UpdateItem", "Query", "TransactWriteItems"):
        figure = overheads[f"dynamodb.{op}.ms"]
        assert delays[op] == figure.distribution()  # one source: the projection's own distribution
    assert operation({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"}) == "Query"
    assert operation({"PATH_INFO": "/moto-api/"}) == ""


def test_each_call_waits_a_draw_of_its_operations_distribution() -> None:
    slept: list[float] = []
    dist = LogNormal.from_percentile(5.0, 15.0, "p99")
    app = DelayedDynamo(_moto(), {"Query": dist}, seed=7, sleep=slept.append)
    for _ in range(2000):
        _call(app, _environ("Query"))
    waits_ms = np.asarray(slept) * 1000
    assert len(waits_ms) == 2000
    # The waits are the draws (less moto's own microseconds): median and p99 as the figure says.
    assert np.median(waits_ms) == pytest.approx(5.0, rel=0.08)
    assert np.percentile(waits_ms, 99) == pytest.approx(15.0, rel=0.2)
    stats = _stats(app)
    assert stats["calls"] == 2000 and stats["by_operation"]["Query"]["drawn_p50_ms"] == pytest.approx(
        5.0, rel=0.08
    )
    assert stats["kept_up"] is True


def test_calls_without_a_figure_pass_undelayed_and_are_counted() -> None:
    slept: list[float] = []
    app = DelayedDynamo(_moto(), {"Query": LogNormal(5.0, 0.5)}, sleep=slept.append)
    _call(app, _environ("DescribeTable"))
    _call(app, _environ(None))
    assert slept == []
    assert _stats(app)["undelayed"] == {"DescribeTable": 1}


def test_concurrent_calls_wait_concurrently() -> None:
    """Twenty calls of a fixed 200 ms at once take about 200 ms in all, not 4 s: nothing serialises."""
    from compare.aws_model import Constant

    app = DelayedDynamo(_moto(), {"GetItem": Constant(200.0)})
    threads = [threading.Thread(target=_call, args=(app, _environ("GetItem"))) for _ in range(20)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    assert 0.19 <= elapsed < 0.8
    stats = _stats(app)
    assert stats["in_flight_max"] >= 15 and stats["calls"] == 20


def test_a_store_slower_than_its_draws_is_late_and_did_not_keep_up() -> None:
    from compare.aws_model import Constant

    app = DelayedDynamo(_moto(work_s=0.02), {"GetItem": Constant(1.0)})
    for _ in range(5):
        _call(app, _environ("GetItem"))
    window = store_window(_stats(app))
    assert window.excess_p99_ms > KEPT_UP_EXCESS_MS and window.kept_up is False and window.late_share == 1.0
    # A call takes max(draw, moto's own time): never the sum.
    assert window.by_operation["GetItem"].actual_p50_ms == pytest.approx(20.0, abs=8.0)
    _call(app, {"PATH_INFO": RESET_PATH})
    assert _stats(app)["calls"] == 0


def test_the_body_is_read_before_moto_s_time_starts() -> None:
    """A client stalled between its headers and its body is not the store's lateness."""
    from compare.aws_model import Constant

    class SlowBody(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            time.sleep(0.03)
            return super().read(size)

    app = DelayedDynamo(_moto(), {"GetItem": Constant(1.0)}, sleep=lambda s: None)
    environ = _environ("GetItem")
    environ["wsgi.input"] = SlowBody(b"{}")
    _call(app, environ)
    assert _stats(app)["excess_p99_ms"] < 10


def test_the_local_hop_is_taken_off_each_draw_once_set() -> None:
    from compare.probes.dynamodelay import MODE_PATH

    slept: list[float] = []
    app = DelayedDynamo(
        _moto(), {"GetItem": LogNormal.from_percentile(5.0, 15.0, "p99")}, seed=3, sleep=slept.append
    )
    answer = json.loads(_call(app, {"PATH_INFO": MODE_PATH, "QUERY_STRING": "on&hop_ms=2.000"}))
    assert answer == {"delayed": True, "hop_ms": 2.0}
    for _ in range(500):
        _call(app, _environ("GetItem"))
    stats = _stats(app)
    held = np.asarray(slept) * 1000
    # Each call is held for its draw less the 2 ms hop (a draw under 2 ms is not held at all).
    assert np.median(held) == pytest.approx(3.0, rel=0.1)
    assert stats["by_operation"]["GetItem"]["drawn_p50_ms"] == pytest.approx(5.0, rel=0.1)
    off = json.loads(_call(app, {"PATH_INFO": MODE_PATH, "QUERY_STRING": "off&hop_ms=0"}))
    assert off == {"delayed": False, "hop_ms": 0.0}
