"""The tool end to end: a tiny run against a local server, the report and its sections."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from compare.__main__ import main
from compare.measure import Probe
from compare.report.contents import TITLES
from compare.report.document import anchor
from compare.run import Driven, Measured, Options, Ui, _context, _drive

TINY = [
    "--rates",
    "20,40",
    "--step-s",
    "0.6",
    "--warmup-s",
    "0.2",
    "--reference-rate",
    "30",
    "--reference-s",
    "1",
    "--reference-warmup-s",
    "0.3",
    "--reference-rounds",
    "2",
    "--round-warmup-s",
    "0.2",
    "--headroom-s",
    "0.5",
    "--slo-p99-ms",
    "1000",
    # Short settling: a 0.6 s first minute, a 0.3 s ramp, 0.3 s held intervals, at most 4 s.
    "--first-minute-s",
    "0.6",
    "--ramp-s",
    "0.3",
    "--settle-interval-s",
    "0.3",
    "--settle-max-s",
    "4",
    "--quiet",
    # Push against polling needs a real café (tracked orders moved on): measured in the local test.
    "--no-modes",
]


# The deployed path, short: 2 steps of 0.6 s, a 1 s reference window (settling as TINY's).
DEPLOYED_TINY = [
    "--deployed-rates",
    "20,40",
    "--deployed-step-s",
    "0.6",
    "--deployed-warmup-s",
    "0.2",
    "--deployed-reference-s",
    "1",
    "--deployed-reference-warmup-s",
    "0.3",
]


# Push against polling, short: 4 tracked orders, 2 s windows, 30 subscribers held at the end.
MODES_TINY = [
    "--modes-s",
    "2",
    "--modes-trackers",
    "4",
    "--modes-change-rate",
    "4",
    "--modes-subscribers",
    "30",
]


def _report(out: Path) -> tuple[Path, dict[str, Any]]:
    (report_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return report_dir, json.loads((report_dir / "results.json").read_text())


def _check_files(report_dir: Path, label: str) -> None:
    md = (report_dir / "report.md").read_text()
    html = (report_dir / "report.html").read_text()
    for title in TITLES:
        assert f"## {title}" in md
        assert f'<h2 id="{anchor(title)}">{title.replace("&", "&amp;")}</h2>' in html
    for chart in ("latency_percentiles.png", "throughput_vs_offered.png"):
        assert (report_dir / chart).read_bytes().startswith(b"\x89PNG")
        assert f"]({chart})" in md
    assert "data:image/png;base64," in html and 'src="latency' not in html  # self-contained
    assert label in md and label in html


def test_remote_mode_against_a_tiny_server(
    fake_cafe: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAFE_STAFF_TOKEN", "test-token")
    assert main(["run", "--target", f"fake={fake_cafe}", "--out", str(tmp_path), *TINY]) == 0
    report_dir, results = _report(tmp_path)
    _check_files(report_dir, "measured here (remote mode against a local endpoint)")
    assert "measured on AWS" not in (report_dir / "report.md").read_text()
    fake = results["runtimes"]["fake"]
    reference = fake["reference"]
    # Two rounds of 0.5 s at 30 req/s, after 0.3 s and then 0.2 s of warm-up.
    assert reference["requests"] == 30 and reference["errors"] == 0 and reference["warmup_excluded"] == 15
    assert [r["requests"] for r in reference["rounds"]] == [15, 15]
    assert "p99 by round" in (report_dir / "report.md").read_text()
    operations = set(reference["by_operation"]) | {
        op for s in fake["capacity"]["steps"] for op in s["by_operation"]
    }
    # The café as its pages make it (a few seconds hold only the frequent routes: screens, polls).
    assert {"poll", "barista_list", "store", "pickup"} <= operations
    workload = results["workload"]
    assert "census" in workload["generated_from"] and workload["profile"].endswith("small-cafe.json")
    assert workload["generated_by_route"] == pytest.approx(workload["profile_by_route"], abs=1e-5)
    assert "generated from the census" in (report_dir / "report.md").read_text()
    # Both steps meet a 1 s SLO against the fake café, unless the generator's headroom check (a
    # 0.5 s window on a machine that may be busy) dropped the 40 req/s step, which the run says.
    dropped = "capacity step 40 req/s (not measured)" in results["generator"]["affected"]
    assert fake["capacity"]["sustainable_rps"] == (20 if dropped else 40)
    # Whether this box kept up depends on its load at the time (test_headroom checks the verdict).
    headroom = results["headroom"]
    assert headroom["rate_rps"] == 80 and headroom["sent_rps"] > 0 and isinstance(headroom["kept_up"], bool)
    assert results["provenance"]["cpu_count"] >= 1 and results["provenance"]["cpu_model"]


def test_remote_mode_without_targets_fails_cleanly(tmp_path: Path) -> None:
    assert main(["run", "--remote", "--outputs-dir", str(tmp_path), "--out", str(tmp_path)]) == 2


@pytest.mark.live
@pytest.mark.slow
def test_local_mode_starts_stops_and_reports(tmp_path: Path) -> None:
    args = [
        "run",
        "--runtimes",
        "lambda,ec2",
        "--cold-starts",
        "2",
        "--base-port",
        "0",
        "--out",
        str(tmp_path),
        *[arg for arg in TINY if arg != "--no-modes"],
        *DEPLOYED_TINY,
        *MODES_TINY,
    ]
    assert main(args) == 0
    report_dir, results = _report(tmp_path)
    _check_files(report_dir, "measured here (local emulation)")
    assert (report_dir / "cold_starts.png").exists()
    assert "local emulations" in (report_dir / "report.md").read_text()
    lam, ec2 = results["runtimes"]["lambda"], results["runtimes"]["ec2"]
    assert lam["reference"]["errors"] == 0 and ec2["reference"]["errors"] == 0
    assert len(lam["cold_start"]["samples"]) == 2 and lam["cold_start"]["init_ms"]["median"] > 0
    assert len(ec2["cold_start"]["samples"]) == 2 and ec2["cold_start"]["healthy_ms"]["median"] > 0
    assert lam["reference"]["lambda_reports"]["invocations"] >= 30
    assert lam["reference"]["lambda_reports"]["billed_ms"]["median"] >= 1
    assert ec2["reference"]["server_cpu"]["ms_per_request"]["total"] > 0
    assert lam["emulator"]["cold_starts"] >= 1
    # Locally Lambda's steadiness and first minute read the emulator's REPORT lines and throttles.
    assert lam["settling"]["signal"].startswith("REPORT lines' Init Duration")
    assert lam["first_minute"]["cold_starts"] is not None and lam["first_minute"]["throttles"] is not None
    assert ec2["first_minute"]["cold_starts"] is None and "nothing scales" in ec2["settling"]["signal"]
    # The deployed path: each runtime in its envelope against DynamoDB delayed as modeled.
    assert results["store_checks"] and isinstance(results["store_checks"][0]["kept_up"], bool)
    for entry in (lam, ec2):
        path = entry["deployed_path"]
        assert path["source"] == "measured here (local emulation, DynamoDB delayed as modeled)"
        assert path["capacity_rps"] in (None, 20.0, 40.0)
        assert path["limited_by"] in (None, "cpu", "concurrency", "store", "generator")
        assert (path["limited_by"] is None) == (not path["limit_found"])
        assert path["p50_ms"] > 0 and path["in_flight_max"] >= 1 and isinstance(path["store_kept_up"], bool)
        assert entry["capacity"]["deployed_path_rps"] == path["capacity_rps"]
        assert path["reference_store"]["calls"] > 0 and path["raise_by"]
        # Every DynamoDB call the runtime made was delayed by a figure of the overheads file.
        assert not path["reference_store"]["undelayed"]
        assert path["model"]["modeled_p50_ms"] > 0 and isinstance(path["model"]["agrees"], bool)
    assert ec2["deployed_path"]["concurrency_limit"] >= 1 and lam["deployed_path"]["concurrency_limit"] == 32
    md = (report_dir / "report.md").read_text()
    assert "deployed-path capacity req/s" in md and "Model against emulation" in md
    # Push against polling: every change seen by its tracker in both modes (which is faster is a
    # measurement, in the report; a 2 s window of 8 changes on a busy machine decides nothing).
    for entry in (lam, ec2):
        polling = entry["polling"]
        assert polling["transport"] == "poll" and polling["changes"] == 8 and polling["missed"] == 0
        assert polling["requests_per_s"] > 1
    for entry, transport in ((ec2, "sse"), (lam, "websocket")):
        push = entry["push"]
        assert push["transport"] == transport and push["changes"] == 8 and push["missed"] == 0
        assert push["subscribers"] == 30 and push["refused"] == 0 and push["cpu_ms_per_event"] > 0
        assert push["notice_ms_at_1k"]["p50"] > 0 and push["server_rss_mb_per_1k"] is not None
    assert (report_dir / "notice_delay.png").exists() and "notice p99 ms" in md


def test_remote_lambda_reads_report_lines_from_cloudwatch(
    fake_cafe: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import boto3
    from moto import mock_aws

    monkeypatch.setenv("CAFE_STAFF_TOKEN", "test-token")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    group = "/aws/lambda/cafe-remote"
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        soon = int(time.time() * 1000) + 500  # inside the run's window
        lines = [
            "REPORT RequestId: a\tDuration: 20.50 ms\tBilled Duration: 21 ms\tMemory Size: 512 MB\t"
            "Max Memory Used: 90 MB\tInit Duration: 480.00 ms\t",
            "REPORT RequestId: b\tDuration: 4.20 ms\tBilled Duration: 5 ms\tMemory Size: 512 MB\t"
            "Max Memory Used: 91 MB\t",
        ]
        events = [{"timestamp": soon + i, "message": line} for i, line in enumerate(lines)]
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
        args = [
            "run",
            "--target",
            f"lambda={fake_cafe}",
            "--lambda-log-group",
            group,
            "--region",
            "us-east-1",
        ]
        assert main([*args, "--out", str(tmp_path), "--no-headroom", *TINY]) == 0
    report_dir, results = _report(tmp_path)
    summary = results["runtimes"]["lambda"]["cloudwatch"]["summary"]
    assert summary["invocations"] == 2 and summary["cold_starts"] == 1
    assert summary["billed_ms"]["total"] == 26 and summary["init_ms"]["median"] == 480
    md = (report_dir / "report.md").read_text()
    assert "Billed Duration per invocation" in md and "1 cold" in md


def test_reference_rounds_are_taken_in_turn_before_any_capacity_search(
    fake_cafe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class RecordingUi(Ui):
        def __init__(self) -> None:
            super().__init__(quiet=True)
            self.tasks: list[str] = []

        @contextmanager
        def task(self, description: str, total: float) -> Iterator[Any]:
            self.tasks.append(description)
            with super().task(description, total) as update:
                yield update

    opts = Options(
        rates=[20],
        step_s=0.3,
        warmup_s=0.1,
        reference_rate=20,
        reference_s=0.6,
        reference_warmup_s=0.2,
        reference_rounds=3,
        round_warmup_s=0.1,
        slo_p99_ms=1000,
        first_minute_s=0.2,
        ramp_s=0.15,
        settle_interval_s=0.1,
        settle_max_s=2,
    )
    ui = RecordingUi()

    async def scenario() -> dict[str, Measured]:
        ctx = await _context(fake_cafe, "test-token", opts)
        targets = [Driven(name, fake_cafe, ctx, Probe()) for name in ("a", "b")]
        return await _drive(targets, opts, ui)

    monkeypatch.setenv("CAFE_STAFF_TOKEN", "test-token")
    measured = asyncio.run(scenario())

    def before(n: str) -> list[str]:
        return [
            f"{n}: first 0.2 s after idle, 20 req/s at once",
            f"{n}: ramp up, hold 20 req/s until steady (≤ 2 s)",
        ]

    rounds = [
        *before("a"),
        "a: 20 req/s reference, round 1/3",
        *before("b"),
        "b: 20 req/s reference, round 1/3",
        *[f"{n}: 20 req/s reference, round {i}/3" for i in (2, 3) for n in ("a", "b")],
    ]
    assert ui.tasks == [*rounds, "a: capacity step 20 req/s", "b: capacity step 20 req/s"]
    for name in ("a", "b"):
        assert [r.requests for r in measured[name].reference.rounds] == [4, 4, 4]
        assert measured[name].reference.requests == 12
