"""The verdict's sensitivity in a run: computed from the run, stored in results.json, reported."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from compare.aws_model import load_overheads
from compare.costlink import cost_section
from compare.report.charts import draw_charts
from compare.report.sensitivity import TITLE, flipping, section
from compare.results import read_results, write_results
from compare.sensitivity import answer, for_run
from tests.compare.sample import full_sample_results

PROFILE = Path(__file__).resolve().parents[3] / "compare" / "cost" / "profiles" / "small-cafe.json"


def test_a_run_reruns_its_verdict_at_every_range_end_and_reports_it(tmp_path: Path) -> None:
    results = full_sample_results()
    results = replace(results, cost=cost_section(results, tmp_path, PROFILE))
    overheads = load_overheads()
    record = for_run(results, overheads)
    inputs = {row.input: row for row in record.sensitivity}
    # The café's assumptions, and every AWS overhead figure with a range (reprojected).
    assert {"traffic.visible_share", "traffic.boards", "apigw.rest.added_ms", "alb.added_ms"} <= set(inputs)
    base = answer(results.cost.estimate["recommendation"])  # type: ignore[index]
    assert base.endswith((" push", " polling"))  # the verdict names the runtime and the mode
    assert all(row.base == base for row in record.sensitivity)
    results = replace(results, verdict=record)
    assert read_results(write_results(results, tmp_path)).verdict == record  # results.json keeps it
    charts = draw_charts(results, tmp_path)
    assert charts.sensitivity is not None and charts.sensitivity.path.stat().st_size > 5_000
    rendered = section(results, charts)
    assert rendered.title == TITLE
    names = flipping(results)
    assert names == [row.input for row in record.sensitivity if row.flips]
    text = str(rendered.blocks)
    assert ("flip the verdict within their range" in text) == bool(names)
    assert "runtime and mode" in text and "the pick" in text  # the combinations, the close ones marked


def test_without_a_cost_model_the_section_says_why(tmp_path: Path) -> None:
    results = replace(full_sample_results(), cost=None)
    record = for_run(results, load_overheads())
    assert record.sensitivity == () and "cost model was not run" in record.note
    results = replace(results, verdict=record)
    assert "Not tested" in str(section(results, draw_charts(results, tmp_path)).blocks)


def test_the_verdict_names_the_mode_and_how_late_the_screens_show_a_change(tmp_path: Path) -> None:
    from compare.report.verdict import build_verdict

    results = full_sample_results()
    results = replace(results, cost=cost_section(results, tmp_path, PROFILE))
    estimate = results.cost.estimate  # type: ignore[union-attr]
    rec = estimate["recommendation"]  # type: ignore[index]
    verdict = build_verdict(results)
    assert verdict.mode == rec["mode"] and verdict.pick.endswith(f"with {rec['mode']}")
    text = " ".join(c.plain() for c in build_verdict(results).claims)
    notice = estimate["modes"][rec["mode"]]["runtimes"][rec["runtime"]]["notice_delay"]  # type: ignore[index]
    assert f"{notice['p99_ms']:,.0f} ms at p99" in text
    if rec["mode"] == "push":
        assert "Polling instead" in text
        polled = estimate["modes"]["polling"]["runtimes"][rec["runtime"]]["notice_delay"]  # type: ignore[index]
        assert f"up to {polled['p99_ms']:,.0f} ms at p99" in text and "census" in text
