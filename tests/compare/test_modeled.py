"""What a run implies on AWS: the projection adds AWS's hops and round trips to the measured service
time (never a sum of percentiles), and the generator record names the figures it affects."""

from __future__ import annotations

from dataclasses import replace

from compare.aws_model import load_overheads
from compare.modeled import projection
from compare.options import Options
from compare.results import CapacityStep, GeneratorRecord, Verdict
from compare.run import _affected
from tests.compare.sample import a_window, sample_results


def test_projection_adds_the_hops_and_names_every_input() -> None:
    results = sample_results()
    overheads = load_overheads()
    lam = projection("lambda", results.runtimes["lambda"], overheads)
    ec2 = projection("ec2", results.runtimes["ec2"], overheads)
    assert lam is not None and ec2 is not None
    service_p50 = results.runtimes["lambda"].reference.latency_ms.p50  # type: ignore[union-attr]
    assert lam.p50_ms > service_p50  # API Gateway and DynamoDB come on top
    assert lam.p50_ms > ec2.p50_ms  # a single instance has no front hop; Lambda has API Gateway
    names = [i.name for i in lam.inputs]
    assert any("service time" in n for n in names) and any("apigw" in n for n in names)
    assert not any("apigw" in i.name or "alb" in i.name for i in ec2.inputs)
    assert all(i.source for i in lam.inputs)
    # Monte Carlo of the whole distribution: the p99 is below the sum of the parts' p99s.
    assert lam.p99_ms < 9.0 + 25.0 + 4 * 30.0


def test_no_reference_window_no_projection() -> None:
    entry = replace(sample_results().runtimes["ec2"], reference=None)
    assert projection("ec2", entry, load_overheads()) is None


def test_when_the_generator_fell_short_every_figure_above_its_rate_is_named() -> None:
    results = sample_results()
    step = CapacityStep(**{**a_window().__dict__, "target_rate_rps": 400.0}, verdict=Verdict(True, "ok"))
    ec2 = results.runtimes["ec2"]
    assert ec2.capacity is not None
    capacity = replace(ec2.capacity, steps=(*ec2.capacity.steps, step), sustainable_rps=400.0)
    runtimes = {**results.runtimes, "ec2": replace(ec2, capacity=capacity)}
    record = GeneratorRecord(kept_up=False, processes=1, highest_rate_rps=400.0, checked_rate_rps=600.0)
    affected = _affected(record, runtimes, Options(reference_rate=100.0)).affected  # type: ignore[union-attr]
    assert "ec2: capacity step 400 req/s" in affected and "ec2: sustainable rate" in affected
    assert not any("100 req/s" in a for a in affected)
    kept = GeneratorRecord(kept_up=True, processes=1, highest_rate_rps=400.0, checked_rate_rps=800.0)
    assert _affected(kept, runtimes, Options()) == kept


def test_the_projection_adds_the_dynamodb_clients_cpu_measured_here() -> None:
    from compare.results import CpuPerStore

    entry = sample_results().runtimes["ec2"]
    overheads = load_overheads()
    without = projection("ec2", replace(entry, cpu_ms_per_request=None), overheads)
    measured = CpuPerStore(sqlite=0.8, dynamodb=3.8)
    with_client = projection("ec2", replace(entry, cpu_ms_per_request=measured), overheads)
    assert without is not None and with_client is not None
    # The same draws plus a constant 3.0 ms: the whole distribution moves by it.
    assert abs(with_client.p50_ms - without.p50_ms - 3.0) < 0.05
    (client,) = [i for i in with_client.inputs if "DynamoDB client CPU" in i.name]
    assert client.value == 3.0 and "measured here" in client.source
    # A runtime whose DynamoDB path cost no more CPU than SQLite's adds nothing.
    same = projection(
        "ec2", replace(entry, cpu_ms_per_request=CpuPerStore(sqlite=2.0, dynamodb=1.5)), overheads
    )
    assert same is not None and not any("DynamoDB client" in i.name for i in same.inputs)
