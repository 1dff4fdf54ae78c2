"""`python -m compare diff A B`: what changed between two stored runs, noise marked from the one
recorded spread (compare/spread.toml, shown in docs/benchmarks.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from compare.__main__ import main
from compare.diff import SPREAD_FILE, Spread, changes, context_rows, figures, judge, load_spread
from compare.results import RunResults, from_json, write_results
from tests.compare.sample import full_sample_json, sample_json

ROOT = Path(__file__).resolve().parents[3]


def _later() -> dict[str, Any]:
    b = full_sample_json()
    b["provenance"]["git_revision"] = "def5678"
    b["provenance"]["versions"]["python"] = "3.12.1"
    b["options"]["step_s"] = 3.0
    ec2 = b["runtimes"]["ec2"]["reference"]
    ec2["latency_ms"] = {**ec2["latency_ms"], "p50": 2.2, "p99": 30.0}  # +10 %: noise; ×3.3: a change
    b["runtimes"]["lambda"]["projection"]["p99_ms"] = 60.0  # ×1.58: within the p99 spread
    return b


def _pair() -> tuple[RunResults, RunResults]:
    return from_json(RunResults, full_sample_json()), from_json(RunResults, _later())


def test_a_move_within_the_spread_is_noise_and_beyond_it_a_change() -> None:
    spread = Spread(1.2, "test")
    assert judge(10.0, 11.5, spread)[0] == "noise"
    assert judge(10.0, 12.5, spread) == ("changed", "+25 %, beyond ×1.2")
    assert judge(12.5, 10.0, spread)[0] == "changed"  # the ratio, whichever way it moves
    assert judge(10.0, 10.0, spread)[0] == "same"
    assert judge(None, 3.0, spread)[0] == "only in B" and judge(3.0, None, spread)[0] == "only in A"
    assert judge(10.0, 30.0, None) == ("changed", "+200 %, no spread recorded")


def test_the_diff_of_two_runs_marks_each_figure() -> None:
    a, b = _pair()
    found = {(c.runtime, c.figure): c for c in changes(a, b, load_spread())}
    assert found[("ec2", "p99_ms")].verdict == "changed"
    assert found[("ec2", "p50_ms")].verdict == "noise"
    assert found[("lambda", "projected_p99_ms")].verdict == "noise"
    assert found[("fargate", "p99_ms")].verdict == "same"
    assert {v.verdict for k, v in found.items() if k[1] == "sustainable_rps"} == {"same"}


def test_every_figure_a_diff_compares_has_a_recorded_spread() -> None:
    names = {figure for _, figure in figures(from_json(RunResults, full_sample_json()))}
    assert names <= set(load_spread())
    assert len(names) >= 12


def test_an_older_run_without_the_new_fields_shows_them_as_only_in_one_run() -> None:
    a = from_json(RunResults, sample_json())
    b = from_json(RunResults, full_sample_json())
    found = {(c.runtime, c.figure): c.verdict for c in changes(a, b, load_spread())}
    assert found[("lambda", "projected_p99_ms")] == "only in B"
    assert found[("fargate", "p50_ms")] == "only in B"


def test_machine_git_versions_and_settings_that_differ_are_listed() -> None:
    rows = {(what, name): (x, y) for what, name, x, y in context_rows(*_pair())}
    assert rows[("git", "revision")] == ("abc1234", "def5678")
    assert rows[("version", "python")] == ("3.11.7", "3.12.1")
    assert rows[("setting", "step_s")] == (1.0, 3.0)
    assert not any(what == "machine" for what, _ in rows)


def test_the_command_reads_two_report_directories(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair()
    write_results(a, tmp_path / "a")
    write_results(b, tmp_path / "b")
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "def5678" in out and "3.12.1" in out and "step_s" in out
    assert re.search(r"ec2\s+│\s+p99_ms.+changed", out)
    assert "moved beyond the run-to-run spread" in out


def test_a_missing_run_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_results(_pair()[0], tmp_path / "a")
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "nowhere")]) == 2
    assert "compare diff:" in capsys.readouterr().err


def test_the_benchmarks_doc_shows_the_spread_file() -> None:
    doc = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    section = doc.split("## Run-to-run spread")[1].split("\n## ")[0]
    assert SPREAD_FILE.relative_to(ROOT).as_posix() in section
    shown = {
        cells[0]: float(cells[1].lstrip("×"))
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| figure")
        for cells in [[c.strip() for c in line.strip("|").split("|")]]
    }
    assert shown == {name: s.factor for name, s in load_spread().items()}
