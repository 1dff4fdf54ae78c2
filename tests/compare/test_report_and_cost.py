"""Report pieces that the end-to-end tests do not reach: cost link present or absent, CPU from /proc."""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from compare import costlink
from compare.procs import tree_cpu_s


def _results() -> dict[str, Any]:
    latency = {"p50": 2.0, "p90": 4.0, "p99": 9.0, "p99.9": 12.0, "max": 15.0, "mean": 2.5}
    reports = {
        "invocations": 100,
        "cold_starts": 2,
        "billed_ms": {"median": 3, "mean": 3.4, "p99": 9, "total": 340},
        "billed_warm_ms": {"median": 3, "mean": 3.1},
        "duration_ms": {"median": 2.2, "p99": 8, "mean": 2.5},
        "init_ms": {"median": 150, "max": 170},
        "memory_size_mb": 512,
        "max_memory_used_mb": 80,
    }
    return {
        "mode": "local",
        "source": "measured here (local emulation)",
        "options": {"slo_p99_ms": 100},
        "provenance": {"platform": "Linux", "cpu_count": 2, "cpu_model": "x"},
        "runtimes": {
            "lambda": {
                "reference": {"latency_ms": latency, "lambda_reports": reports},
                "cold_start": {"init_ms": {"n": 10, "median": 151.0}},
            },
            "ec2": {"reference": {"latency_ms": latency, "server_cpu": {"ms_per_request": {"total": 1.7}}}},
        },
    }


def test_measured_figures_reach_the_cost_profile_with_their_label() -> None:
    profile = costlink.measured_profile(_results(), {"region": "us-east-1", "lambda": {"arch": "arm64"}})
    assert profile["lambda"] == {"arch": "arm64", "avg_billed_ms": 3.1, "memory_mb": 512, "init_ms": 151.0}
    assert profile["ec2"]["cpu_ms_per_request"] == 1.7
    assert profile["p99_ms"] == {"lambda": 9.0, "ec2": 9.0}
    assert profile["provenance"]["lambda.avg_billed_ms"] == "measured here"
    assert profile["provenance"]["ec2.cpu_ms_per_request"] == "measured here"


def test_cost_section_uses_the_cost_model_when_present(tmp_path: Path) -> None:
    if importlib.util.find_spec("compare.cost") is None:
        pytest.skip("compare.cost is not in this checkout")
    section = costlink.cost_section(_results(), tmp_path)
    assert section["available"], section["note"]
    assert set(section["estimate"]["runtimes"]) == {"lambda", "fargate", "ec2"}
    assert section["chart"] is None or Path(section["chart"]).exists()


def test_cost_section_tolerates_a_missing_cost_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.import_module

    def fake_import(name: str, *args: Any) -> Any:
        if name == "compare.cost":
            raise ImportError("No module named 'compare.cost'")
        return real(name, *args)

    monkeypatch.setattr(costlink.importlib, "import_module", fake_import)
    section = costlink.cost_section(_results(), tmp_path)
    assert section == {
        "available": False,
        "note": "cost model not installed (No module named 'compare.cost')",
    }


def test_cost_section_survives_a_failing_cost_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        @staticmethod
        def estimate(profile: dict[str, Any]) -> dict[str, Any]:
            raise ValueError("bad profile")

    monkeypatch.setattr(costlink.importlib, "import_module", lambda name, *a: Broken)
    section = costlink.cost_section(_results(), tmp_path)
    assert not section["available"] and "bad profile" in section["note"]


def test_tree_cpu_counts_children() -> None:
    spin = (
        "import os,time\nif os.fork()==0:\n  t=time.process_time()\n"
        "  while time.process_time()-t<0.3: pass\n  os._exit(0)\nos.wait()\ntime.sleep(30)"
    )
    process = subprocess.Popen([sys.executable, "-c", spin])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and tree_cpu_s(process.pid)["children"] < 0.25:
            time.sleep(0.05)
        cpu = tree_cpu_s(process.pid)
        assert cpu["children"] >= 0.25  # the child's CPU, reaped into the parent's cutime
        assert cpu["total"] >= cpu["children"]
    finally:
        process.kill()
        process.wait()
