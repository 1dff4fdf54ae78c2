"""The AWS projection: Monte Carlo sums checked against analytic convolutions, and the overheads
file's provenance rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

from compare.aws_model import (
    Component,
    Constant,
    LogNormal,
    Uniform,
    dynamodb_calls,
    hops_for,
    load_overheads,
    project,
    project_mix,
)
from compare.aws_model.distributions import DistributionError, from_spec
from compare.aws_model.overheads import KINDS, OverheadsError


def test_sum_of_two_uniforms_matches_the_triangular_distribution() -> None:
    # U(0,1) + U(0,1) is triangular on [0, 2]: median 1, p99 = 2 − √(2 × 0.01)
    a = Component("a", Uniform(0, 1), "test")
    b = Component("b", Uniform(0, 1), "test")
    out = project(a, [b], [], seed=1)
    assert out["p50_ms"] == pytest.approx(1.0, abs=0.01)
    assert out["p99_ms"] == pytest.approx(2 - math.sqrt(0.02), abs=0.01)


def test_constant_plus_lognormal_shifts_its_quantiles() -> None:
    ln = LogNormal.from_percentile(4.0, 12.0, "p99")
    out = project(Component("service", Constant(2.5), "test"), [], [Component("db", ln, "test")], seed=2)
    assert out["p50_ms"] == pytest.approx(2.5 + 4.0, rel=0.01)
    assert out["p99_ms"] == pytest.approx(2.5 + 12.0, rel=0.03)


def test_repeated_calls_are_independent_draws_not_a_multiple() -> None:
    # two independent lognormal calls: p99 of the sum is well below 2 × p99 (the sum of percentiles)
    ln = LogNormal.from_percentile(5.0, 15.0, "p99")
    out = project(Component("s", Constant(0.0), "t"), [], [Component("call", ln, "t", count=2)], seed=3)
    assert out["p99_ms"] < 0.9 * 2 * 15.0
    assert out["p50_ms"] > 2 * 5.0  # and the median of the sum is above the sum of medians (right skew)


def test_a_fractional_count_is_a_mean() -> None:
    one_in_four = Component("c", Constant(8.0), "t", count=0.25)
    rng = np.random.default_rng(0)
    assert one_in_four.draw(rng, 100_000).mean() == pytest.approx(2.0, rel=0.02)


def test_projection_is_seeded_and_lists_every_input_with_a_source() -> None:
    over = load_overheads()
    service = Component("service", LogNormal.from_percentile(1.0, 2.0, "p99"), "measured here (test)")
    hops = hops_for("lambda", over)
    calls = dynamodb_calls({"GetItem": 1, "TransactWriteItems": 1}, over)
    first = project(service, hops, calls, seed=7)
    assert first == project(service, hops, calls, seed=7)
    assert first != project(service, hops, calls, seed=8)
    names = [row["name"] for row in first["inputs"]]
    assert names == [
        "service",
        "apigw.rest.added_ms",
        "dynamodb.GetItem.ms",
        "dynamodb.TransactWriteItems.ms",
    ]
    assert all(row["source"] and row["value"] is not None for row in first["inputs"])
    assert first["label"] == "modeled from measured inputs"


@pytest.mark.parametrize(
    ("runtime", "kwargs", "expected"),
    [
        ("lambda", {}, ["apigw.rest.added_ms"]),
        ("lambda", {"api": "http"}, ["apigw.http.added_ms"]),
        ("lambda", {"api": "url"}, []),
        ("fargate", {}, ["alb.added_ms"]),
        ("ec2", {}, []),
        ("ec2", {"scale_out": True}, ["alb.added_ms"]),
    ],
)
def test_hops_follow_the_deployed_front_doors(
    runtime: str, kwargs: dict[str, object], expected: list[str]
) -> None:
    assert [h.name for h in hops_for(runtime, load_overheads(), **kwargs)] == expected  # type: ignore[arg-type]


def test_every_overhead_figure_says_what_it_is_and_where_it_came_from() -> None:
    over = load_overheads()
    for figure in over.figures.values():
        assert figure.kind in KINDS
        assert figure.source.strip() and figure.date.strip() and figure.unit.strip()
        if isinstance(figure.value, dict) and "dist" in figure.value:
            figure.distribution()  # parses
    # AWS does not document the idle reap time: the figure must carry a plausible range
    reap = over["lambda.idle_reap_s"]
    assert reap.range is not None and reap.range[0] < reap.value["value"] < reap.range[1]


def test_new_capacity_on_aws_is_its_parts_each_with_its_own_kind() -> None:
    from compare.day.deployed import alb_ready_s
    from compare.probes.coldstart import aws_capacity_ready

    over = load_overheads()
    # only launch → SSH is published; the user data and the health checks are this project's own
    kinds = {f.name: f.kind for f in over.capacity_ready("ec2")}
    assert kinds == {
        "ec2.boot_s": "published measurement",
        "ec2.user_data_install_s": "assumption",
        "alb.health_check_ready_s": "assumption",
    }
    assert "launch → SSH ≈ 26 s" in over["ec2.boot_s"].source
    assert [f.name for f in over.capacity_ready("fargate")] == [
        "fargate.task_start_s",
        "alb.health_check_ready_s",
    ]
    # #696 is one user's figure, #649 is EKS: the source says so
    task = over["fargate.task_start_s"].source
    assert "single user" in task and "900 MB" in task and "EKS on Fargate, not ECS" in task
    # the health-check figure is the template's checks × interval
    assert over["alb.health_check_ready_s"].value["value"] == alb_ready_s()
    ready = aws_capacity_ready("ec2", over)
    assert ready.seconds == pytest.approx(26 + 75 + 20)
    assert [p.kind for p in ready.parts] == ["published measurement", "assumption", "assumption"]
    assert ready.kinds() == (
        "26 s launch → SSH (published measurement) + 75 s user data install (assumption) "
        "+ 20 s ALB health checks (assumption)"
    )
    assert not ready.source.startswith("published measurement")


def test_a_remote_mode_measurement_replaces_a_figure_with_its_provenance() -> None:
    over = load_overheads().replace(
        "alb.added_ms", [1.0, 1.2, 2.0], "remote mode run 2026-12-01", "2026-12-01"
    )
    fig = over["alb.added_ms"]
    assert fig.kind == "remote mode" and fig.range is None
    assert "remote mode run" in fig.to_input()["source"]
    with pytest.raises(OverheadsError):
        over.replace("alb.added_ms", 1.0, "x", "y", kind="guess")


@pytest.mark.parametrize(
    "spec",
    [{"dist": "lognormal", "median": 5}, {"dist": "uniform", "low": 3, "high": 1}, {"dist": "gamma"}, []],
)
def test_malformed_distribution_specs_are_refused(spec: object) -> None:
    with pytest.raises(DistributionError):
        from_spec(spec)  # type: ignore[arg-type]


def test_a_mix_weights_each_operations_own_round_trips() -> None:
    # 90 % of requests make no call, 10 % make one constant 100 ms call: p50 = service, p99 = +100
    over = load_overheads().replace(
        "dynamodb.GetItem.ms", {"dist": "constant", "value": 100.0}, "test", "today"
    )
    out = project_mix(
        Component("service", Constant(3.0), "test"),
        [],
        {"menu": 0.9, "poll": 0.1},
        {"menu": {}, "poll": {"GetItem": 1}},
        over,
        seed=4,
    )
    assert out["p50_ms"] == pytest.approx(3.0)
    assert out["p99_ms"] == pytest.approx(103.0)
    names = [row["name"] for row in out["inputs"]]
    assert names == ["service", "dynamodb.GetItem.ms", "operation mix", "dynamodb.round_trips"]
