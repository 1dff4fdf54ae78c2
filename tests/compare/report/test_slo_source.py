"""The SLO comes from the cost profile unless the command line gives one; results.json says which
(`slo: {p99_ms, source}`), the report says it, and an older results.json still loads."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from compare import costlink
from compare.__main__ import parser
from compare.options import Options
from compare.report.verdict import build_verdict
from compare.results import SloSetting, read_results, write_results
from tests.compare.sample import full_sample_results, sample_results


def test_the_slo_is_the_profiles_unless_the_command_line_gives_one(tmp_path: Path) -> None:
    busy = Path(costlink.BASE_PROFILE).with_name("busy-cafe.json")
    own = json.loads(busy.read_text())["slo_p99_ms"]
    assert Options(cost_profile=busy).slo() == SloSetting(float(own), "profile busy-cafe")
    assert Options(cost_profile=busy, slo_p99_ms=80).slo() == SloSetting(80.0, "command line")
    # no hidden default on the command line
    assert parser().parse_args(["run"]).slo_p99_ms is None
    # a profile without one is a clear error, not a made-up number
    bare = tmp_path / "bare.json"
    bare.write_text('{"region": "us-east-1"}')
    with pytest.raises(costlink.SloError, match="slo_p99_ms"):
        Options(cost_profile=bare).slo()
    assert Options(cost_profile=busy).settings().slo_p99_ms == own


def test_results_json_says_where_the_slo_came_from_and_older_files_load(tmp_path: Path) -> None:
    results = replace(sample_results(), slo=SloSetting(500.0, "profile small-cafe"))
    path = write_results(results, tmp_path / "new")
    assert json.loads(path.read_text())["slo"] == {"p99_ms": 500.0, "source": "profile small-cafe"}
    assert read_results(path).slo_setting == SloSetting(500.0, "profile small-cafe")
    older = read_results(write_results(sample_results(), tmp_path / "old"))  # no "slo" key
    assert older.slo is None
    assert older.slo_setting.p99_ms == 100 and "not recorded" in older.slo_setting.source


def test_the_cost_profile_keeps_its_own_slo_and_a_command_line_one_replaces_it() -> None:
    base = {"region": "us-east-1", "slo_p99_ms": 500}
    own = replace(sample_results(), slo=SloSetting(500.0, "profile small-cafe"))
    profile = costlink.measured_profile(own, base)
    assert profile["slo_p99_ms"] == 500 and "slo_p99_ms" not in profile["provenance"]
    given = replace(sample_results(), slo=SloSetting(80.0, "command line"))
    profile = costlink.measured_profile(given, base)
    # an input, not a measurement, labelled where it came from, as results.json says
    assert profile["slo_p99_ms"] == 80 and profile["provenance"]["slo_p99_ms"] == "command line"


def test_the_capacity_line_says_the_slos_source_and_the_run_to_run_spread() -> None:
    results = replace(full_sample_results(), slo=SloSetting(100.0, "profile small-cafe"))
    claims = [c.text for c in build_verdict(results).differences if c.text.startswith("Highest rate")]
    assert len(claims) == 1
    line = claims[0]
    assert "(100 ms, from profile small-cafe)" in line
    assert "×4" in line and "200, 600, 600 and 800 req/s" in line
    given = replace(results, slo=SloSetting(100.0, "command line"))
    assert "from the command line" in next(
        c.text for c in build_verdict(given).differences if c.text.startswith("Highest rate")
    )
