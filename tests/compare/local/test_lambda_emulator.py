"""The local Lambda end to end: HTTP front → proxy event → Runtime API → real awslambdaric."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from compare.local.envelopes import PARENT, Envelopes
from compare.probes.cloudwatch import parse_report_lines
from tests.compare.conftest import free_port, wait_for

pytestmark = pytest.mark.live

TINY_CHALICE = textwrap.dedent("""
    import os, time
    from chalice import Chalice
    app = Chalice(app_name="tiny")
    BOOTED = time.time()

    @app.route("/hello/{name}")
    def hello(name):
        r = app.current_request
        return {"hello": name, "q": r.query_params, "pid": os.getpid(), "booted": BOOTED}

    @app.route("/echo", methods=["POST"])
    def echo():
        return {"body": app.current_request.json_body}

    @app.route("/slow")
    def slow():
        time.sleep(float(app.current_request.query_params.get("s", "0.5")))
        return {"pid": os.getpid()}

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    TICKS = [0]

    def _tick():
        while True:
            TICKS[0] += 1
            time.sleep(0.01)

    @app.route("/ticks")
    def ticks():
        # A background thread, as some libraries start: it must not run while the sandbox is frozen.
        if not getattr(app, "ticker", None):
            import threading
            app.ticker = threading.Thread(target=_tick, daemon=True)
            app.ticker.start()
        return {"ticks": TICKS[0], "at": time.monotonic()}

    @app.route("/spin")
    def spin():
        wall = float(app.current_request.query_params.get("s", "1"))
        start, cpu = time.monotonic(), time.process_time()
        while time.monotonic() - start < wall:
            pass
        return {"cpu_share": (time.process_time() - cpu) / wall}
""")

PLAIN_HANDLER = textwrap.dedent("""
    def handler(event, context):
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain"},
                "body": event["path"] + " " + context.aws_request_id}

    def crash(event, context):
        import os
        os._exit(3)
""")


class Emulator:
    def __init__(self, app_dir: Path, handler: str, concurrency: int, *extra: str) -> None:
        self.port = free_port()
        self.log = app_dir / "lambda.log"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "compare.local.lambda_emu",
                "--port",
                str(self.port),
                "--app-dir",
                str(app_dir),
                "--handler",
                handler,
                "--concurrency",
                str(concurrency),
                "--log",
                str(self.log),
                "--timeout",
                "5",
                *extra,
            ]
        )
        wait_for(self.port, self.process, path="/__emulator/stats")

    def call(self, path: str, method: str = "GET", body: bytes | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=body, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def stats(self) -> dict[str, Any]:
        return self.call("/__emulator/stats")[1]  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


@pytest.fixture
def chalice_emulator(tmp_path: Path) -> Iterator[Emulator]:
    (tmp_path / "app.py").write_text(TINY_CHALICE)
    emulator = Emulator(tmp_path, "app.app", concurrency=2)
    yield emulator
    emulator.stop()


def test_chalice_round_trip_cold_then_warm(chalice_emulator: Emulator) -> None:
    status, first = chalice_emulator.call("/hello/ana?x=1&x=2")
    assert status == 200 and first["hello"] == "ana" and first["q"] == {"x": "2"}
    status, second = chalice_emulator.call("/hello/bo")
    assert status == 200 and second["pid"] == first["pid"] and second["booted"] == first["booted"]  # reused
    status, echoed = chalice_emulator.call("/echo", "POST", b'{"a": [1, 2]}')
    assert status == 200 and echoed == {"body": {"a": [1, 2]}}
    stats = chalice_emulator.stats()
    assert stats["cold_starts"] == 1 and stats["environments"] == 1 and stats["invocations"] == 3
    reports = parse_report_lines(chalice_emulator.log.read_text().splitlines())
    assert len(reports) == 3
    assert reports[0].init_ms is not None and reports[0].init_ms > 0
    assert all(r.init_ms is None for r in reports[1:])
    assert all(r.billed_ms >= r.duration_ms for r in reports)
    assert reports[0].billed_ms >= reports[0].init_ms + reports[0].duration_ms  # INIT billed on a cold start


def test_unknown_route_and_handler_error_answer_like_api_gateway(chalice_emulator: Emulator) -> None:
    assert chalice_emulator.call("/nowhere")[0] == 403
    status, _body = chalice_emulator.call("/boom")
    assert status == 500  # Chalice turns the exception into its own 500 proxy response


def test_one_request_per_environment_then_throttle(chalice_emulator: Emulator) -> None:
    results: list[tuple[int, Any]] = []

    def call() -> None:
        # 2 s: long enough that all three calls overlap on a busy machine.
        results.append(chalice_emulator.call("/slow?s=2.0"))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(status for status, _ in results)
    # Concurrency limit 2: the third is throttled, and API Gateway's REST API turns Lambda's
    # rejection into 500 {"message": "Internal server error"} (Lambda developer guide).
    assert statuses == [200, 200, 500]
    assert {"message": "Internal server error"} in [body for status, body in results if status == 500]
    pids = {body["pid"] for status, body in results if status == 200}
    assert len(pids) == 2  # two environments, one request each
    stats = chalice_emulator.stats()
    assert stats["throttles"] == 1 and stats["environments"] == 2


def test_coldstart_endpoint_reports_init_and_first_invocation_separately(chalice_emulator: Emulator) -> None:
    status, body = chalice_emulator.call("/__emulator/coldstart?n=3&path=/hello/x", "POST")
    assert status == 200
    assert len(body["samples"]) == 3
    for sample in body["samples"]:
        assert sample["status"] == 200
        assert sample["init_ms"] > 0 and sample["first_invoke_ms"] > 0
        assert sample["total_ms"] >= sample["init_ms"] + sample["first_invoke_ms"] - 1
    assert chalice_emulator.stats()["environments"] == 0  # fresh environments, not the pool's


def test_plain_handler_and_dying_environment(tmp_path: Path) -> None:
    (tmp_path / "fn.py").write_text(PLAIN_HANDLER)
    emulator = Emulator(tmp_path, "fn.handler", concurrency=1)
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{emulator.port}/any/path")
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - local
            text = response.read().decode()
        assert text.startswith("/any/path ")
    finally:
        emulator.stop()
    crashing = Emulator(tmp_path, "fn.crash", concurrency=1)
    try:
        assert crashing.call("/x")[0] == 502
        assert crashing.call("/x")[0] == 502  # a new environment each time, no stuck slot
        assert crashing.stats()["environments"] == 0
    finally:
        crashing.stop()


def test_init_error_is_a_502(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("raise ImportError('cannot start')\n")
    emulator = Emulator(tmp_path, "bad.handler", concurrency=1)
    try:
        assert emulator.call("/x")[0] == 502
    finally:
        emulator.stop()


def _groups_of(pid: int) -> list[Path]:
    return [path for path in Path("/sys/fs/cgroup").glob(f"*/{PARENT}/cafe-envelope-{pid}-*")] + list(
        Path("/sys/fs/cgroup").glob(f"{PARENT}/cafe-envelope-{pid}-*")
    )


def test_environment_is_frozen_between_invocations(chalice_emulator: Emulator) -> None:
    status, first = chalice_emulator.call("/ticks")
    assert status == 200
    time.sleep(1.0)  # ≈ 100 ticks if the thread kept running
    status, second = chalice_emulator.call("/ticks")
    assert status == 200 and second["at"] - first["at"] >= 1.0
    assert second["ticks"] - first["ticks"] < 30, "the sandbox ran while it had no event"


def test_idle_environments_are_reaped(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(TINY_CHALICE)
    emulator = Emulator(tmp_path, "app.app", 2, "--idle-reap-s", "0.5")
    try:
        assert emulator.call("/hello/a")[0] == 200
        deadline = time.monotonic() + 10
        while emulator.stats()["reaped"] == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        stats = emulator.stats()
        assert stats["reaped"] == 1 and stats["environments"] == 0
        assert emulator.call("/hello/b")[0] == 200
        assert emulator.stats()["cold_starts"] == 2  # the next request paid init again
    finally:
        emulator.stop()


needs_cgroups = pytest.mark.skipif(
    not Envelopes.open().enforced, reason="cgroups cannot be written here (no root): envelopes are off"
)


@needs_cgroups
def test_environment_runs_inside_its_cpu_envelope_and_leaves_no_cgroup(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(TINY_CHALICE)
    emulator = Emulator(tmp_path, "app.app", 1, "--memory-mb", "512")
    try:
        envelope = emulator.stats()["envelope"]
        assert envelope["enforced"] and envelope["cpu_vcpu"] == pytest.approx(512 / 1769)
        status, body = emulator.call("/spin?s=1.5")
        assert status == 200
        # 0.29 vCPU: the CFS quota lets it run ≈ 29 % of the wall time (give the kernel slack).
        assert body["cpu_share"] < 0.45
        assert emulator.stats()["cpu_seconds"] > 0.2
        assert _groups_of(emulator.process.pid)
    finally:
        emulator.stop()
    assert _groups_of(emulator.process.pid) == []


@needs_cgroups
def test_groups_left_by_a_killed_run_are_swept(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(TINY_CHALICE)
    emulator = Emulator(tmp_path, "app.app", 1)
    assert emulator.call("/hello/a")[0] == 200
    emulator.process.kill()  # no cleanup runs: the group and its frozen environment stay behind
    emulator.process.wait()
    left = _groups_of(emulator.process.pid)
    assert left
    swept = Envelopes.open().sweep_stale()
    assert {path.name for path in left} <= set(swept)
    assert _groups_of(emulator.process.pid) == []


def test_a_path_with_an_encoded_newline_reaches_the_function(chalice_emulator: Emulator) -> None:
    # API Gateway passes such a path parameter on; the app, not the front, answers for it.
    status, body = chalice_emulator.call("/hello/a%0Ab")
    assert status == 200 and body["hello"] == "a\nb"
