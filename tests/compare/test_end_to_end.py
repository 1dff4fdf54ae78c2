"""The tool end to end: a tiny run against a local server, the report and its sections."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compare.__main__ import main
from compare.report import SECTIONS

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
    "--headroom-s",
    "0.5",
    "--slo-p99-ms",
    "1000",
    "--quiet",
]


def _report(out: Path) -> tuple[Path, dict[str, Any]]:
    (report_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return report_dir, json.loads((report_dir / "results.json").read_text())


def _check_files(report_dir: Path, label: str) -> None:
    md = (report_dir / "report.md").read_text()
    html = (report_dir / "report.html").read_text()
    for title in SECTIONS:
        assert f"## {title}" in md
        assert f"<h2>{title.replace('&', '&amp;')}</h2>" in html
    for chart in ("latency_percentiles.png", "throughput_vs_p99.png"):
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
    assert reference["requests"] == 30 and reference["errors"] == 0 and reference["warmup_excluded"] == 9
    operations = set(reference["by_operation"]) | {
        op for s in fake["capacity"]["steps"] for op in s["by_operation"]
    }
    assert {"menu", "place_order", "poll", "barista_list"} <= operations
    assert fake["capacity"]["sustainable_rps"] == 40
    assert results["headroom"]["rate_rps"] == 80 and results["headroom"]["kept_up"]
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
        *TINY,
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
