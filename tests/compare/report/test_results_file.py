"""results.json: what the writer stores the reader gives back; the report leaves it alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compare.report import write_report
from compare.results import ResultsError, RunResults, from_json, read_results, to_json, write_results
from tests.compare.sample import sample_json, sample_results


def test_the_reader_gives_back_what_the_writer_stored(tmp_path: Path) -> None:
    results = sample_results()
    path = write_results(results, tmp_path)
    assert read_results(path) == results
    assert read_results(tmp_path) == results  # the report directory will do
    stored = json.loads(path.read_text())
    assert (
        stored["schema_version"] == 2
        and stored["runtimes"]["ec2"]["reference"]["latency_ms"]["p99.9"] == 12.0
    )


def _holds(stored: Any, given: Any) -> bool:
    """Every key and value of `given` is in `stored` (which also has the fields left at None)."""
    if isinstance(given, dict):
        return all(k in stored and _holds(stored[k], v) for k, v in given.items())
    if isinstance(given, list):
        return len(stored) == len(given) and all(map(_holds, stored, given))
    return bool(stored == given)


def test_the_stored_keys_are_the_json_keys_read() -> None:
    stored = to_json(sample_results())
    assert _holds(stored, sample_json())
    assert stored["runtimes"]["lambda"]["envelope"] is None  # a place kept, not a number made up


def test_another_schema_version_is_refused(tmp_path: Path) -> None:
    path = write_results(sample_results(), tmp_path)
    path.write_text(path.read_text().replace('"schema_version": 2', '"schema_version": 1'))
    with pytest.raises(ResultsError, match="schema_version 1"):
        read_results(path)


def test_a_wrong_type_names_where_it_is() -> None:
    data = sample_json()
    data["runtimes"]["ec2"]["reference"]["requests"] = "many"
    with pytest.raises(ResultsError, match=r"RunResults\.runtimes\.ec2\.reference\.requests"):
        from_json(RunResults, data)


def test_writing_the_report_changes_neither_the_results_nor_results_json(tmp_path: Path) -> None:
    results = sample_results()
    path = write_results(results, tmp_path)
    before = path.read_bytes()
    files = write_report(results, tmp_path)
    assert path.read_bytes() == before and results == sample_results()
    assert set(files) == {"markdown", "html"} and files["markdown"].exists()
