"""The cost link: measured figures reach the cost profile with their label; the model prices them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from compare import costlink
from compare.cost.profile import PROJECTED, ProfileError
from compare.results import (
    MEASURED_HERE,
    ColdStarts,
    CpuPerStore,
    Projection,
    ProjectionInput,
    RunResults,
    Spread,
)
from tests.compare.sample import sample_results


def _results() -> RunResults:
    return sample_results()


def test_measured_figures_reach_the_cost_profile_with_their_label() -> None:
    profile = costlink.measured_profile(_results(), {"region": "us-east-1", "lambda": {"arch": "arm64"}})
    assert profile["lambda"] == {"arch": "arm64", "avg_billed_ms": 3.1, "memory_mb": 512, "init_ms": 151.0}
    assert profile["ec2"]["cpu_ms_per_request"] == 1.7
    assert profile["p99_ms"] == {"lambda": 9.0, "ec2": 9.0}
    assert profile["provenance"]["lambda.avg_billed_ms"] == MEASURED_HERE
    assert profile["provenance"]["ec2.cpu_ms_per_request"] == MEASURED_HERE


def test_a_lambda_without_init_samples_keeps_the_profiles_init() -> None:
    results = _results()
    lam = results.runtimes["lambda"]
    empty = Spread(n=0, median=0.0, min=0.0, max=0.0, q1=0.0, q3=0.0)
    runtimes = {**results.runtimes, "lambda": replace(lam, cold_start=ColdStarts(init_ms=empty))}
    profile = costlink.measured_profile(replace(results, runtimes=runtimes), {"lambda": {"init_ms": 99}})
    assert profile["lambda"]["init_ms"] == 99


def test_cost_section_prices_the_measured_profile(tmp_path: Path) -> None:
    section = costlink.cost_section(_results(), tmp_path)
    assert section.available, section.note
    assert section.estimate is not None
    assert set(section.estimate["runtimes"]) == {"lambda", "fargate", "ec2"}
    assert section.chart is None or Path(section.chart).exists()
    assert section.measured_inputs["lambda.avg_billed_ms"] == MEASURED_HERE


def test_cost_section_says_why_when_the_profile_is_missing(tmp_path: Path) -> None:
    section = costlink.cost_section(_results(), tmp_path, tmp_path / "nope.json")
    assert not section.available and "no base cost profile" in section.note


def test_cost_section_survives_a_profile_the_model_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(profile: object) -> object:
        raise ProfileError("bad profile")

    monkeypatch.setattr(costlink, "estimate", refuse)
    section = costlink.cost_section(_results(), tmp_path)
    assert not section.available and "bad profile" in section.note


def test_the_deployed_store_path_and_the_projection_feed_the_cost_model() -> None:
    results = _results()
    runtimes = {
        "lambda": replace(
            results.runtimes["lambda"],
            cpu_ms_per_request=CpuPerStore(sqlite=0.7, dynamodb=4.2, billed_ms_dynamodb=9.0),
            projection=Projection(30.0, 80.0, (ProjectionInput("service", 2.0, MEASURED_HERE),)),
        ),
        "ec2": replace(results.runtimes["ec2"], cpu_ms_per_request=CpuPerStore(sqlite=1.7, dynamodb=5.5)),
    }
    profile = costlink.measured_profile(replace(results, runtimes=runtimes), {})
    assert profile["lambda"]["avg_billed_ms"] == 9.0  # the DynamoDB path, not SQLite's 3.1
    assert profile["ec2"]["cpu_ms_per_request"] == 5.5
    assert profile["p99_ms"]["lambda"] == 80.0 and profile["provenance"]["p99_ms.lambda"] == PROJECTED
    assert profile["p99_ms"]["ec2"] == 9.0 and profile["provenance"]["p99_ms.ec2"] == MEASURED_HERE
