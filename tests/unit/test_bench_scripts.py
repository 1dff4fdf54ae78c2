"""The benchmark scripts are not run by `make test` (they take minutes), but each must still import
and parse its options: a moved module would otherwise break `make bench` or `make soak` unseen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ("cold_init.py", "throughput.py", "dynamodb_path.py", "soak.py", "inprocess.py")


def run_bench(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_benchmark_script_imports_and_parses_its_options(script: str) -> None:
    done = run_bench(script, "--help")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout


def test_the_in_process_benchmark_runs_and_reports_both_requests() -> None:
    """The cheapest of them runs for real: every response must be a success or it exits non-zero."""
    done = run_bench("inprocess.py", "--batches", "2", "--menu-per-batch", "3", "--orders-per-batch", "3")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [
        line
        for line in done.stdout.splitlines()
        if line.startswith("| GET /menu") or line.startswith("| POST")
    ]
    assert len(rows) == 2, done.stdout
    assert "_aws" not in done.stdout  # the metrics' EMF lines are not the report
