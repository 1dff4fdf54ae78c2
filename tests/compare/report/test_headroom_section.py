"""The generator headroom: one answer to "did the generator keep up?" in the headroom section, the
generator record and the printed summary — never "did not keep up" beside "kept up"."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from compare.report.charts import Charts
from compare.report.console import print_summary
from compare.report.headroom import section
from compare.report.warnings import generator_state
from compare.results import GeneratorRecord, Headroom, Percentiles, RunResults
from tests.compare.sample import full_sample_results

LAT = Percentiles(p50=1.0, p90=2.0, p99=3.0, p99_9=4.0, max=5.0, mean=1.2)


def _with(kept_check: bool, record: GeneratorRecord | None) -> RunResults:
    headroom = Headroom(
        rate_rps=1600.0,
        achieved_rps=1600.0 if kept_check else 1000.0,
        sent_rps=1600.0,
        latency_ms=LAT,
        send_lag_ms=LAT,
        generator_cpu_s=1.0,
        generator_cpu_share=0.5,
        generator_cpu_ms_per_request=0.2,
        kept_up=kept_check,
    )
    return replace(full_sample_results(), headroom=headroom, generator=record)


def _texts(results: RunResults, tmp_path: Path) -> tuple[str, str]:
    buffer = io.StringIO()
    print_summary(results, tmp_path, Console(file=buffer, width=400, color_system=None))
    return str(section(results, Charts())), buffer.getvalue()


# The check at 2× fell behind; the run dropped the steps above half of what it reached.
CUT = GeneratorRecord(
    kept_up=True,
    processes=1,
    highest_rate_rps=400.0,
    checked_rate_rps=1600.0,
    affected=("capacity step 600 req/s (not measured)", "capacity step 800 req/s (not measured)"),
)


def test_a_cut_ladder_is_one_answer_not_two(tmp_path: Path) -> None:
    results = _with(False, CUT)
    kept, state = generator_state(results)
    assert kept is True
    report, console = _texts(results, tmp_path)
    for text in (report, console):
        assert "did not keep up" not in text.lower() and "did NOT" not in text
        assert "kept up with every rate the run used" in text
        assert "fell behind at 1600 req/s" in text
    assert (
        "up to half of that, 500 req/s; dropped: capacity step 600 req/s, capacity step 800 req/s" in report
    )
    # the section's verdict and the generator record say the same thing
    assert report.count(state) == 2


def test_a_generator_that_did_not_keep_up_says_so_everywhere(tmp_path: Path) -> None:
    behind = replace(CUT, kept_up=False, affected=("reference window (100 req/s) on every runtime",))
    report, console = _texts(_with(False, behind), tmp_path)
    for text in (report, console):
        assert "did not keep up" in text
        assert "kept up with" not in text and "kept up:" not in text


def test_a_check_that_passed_is_kept_up(tmp_path: Path) -> None:
    record = GeneratorRecord(kept_up=True, processes=1, highest_rate_rps=800.0, checked_rate_rps=1600.0)
    report, console = _texts(_with(True, record), tmp_path)
    for text in (report, console):
        assert "kept up: at 1600 req/s, 2× the highest rate used, it achieved 1600 req/s" in text
        assert "did not" not in text.lower()
