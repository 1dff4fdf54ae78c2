"""The deployed path (issue 27): the bound a failing step hit, judged from evidence; what raises
it; results.json carrying it (older files still load); the report; the model against emulation."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from compare.aws_model import load_overheads
from compare.deployed import Evidence, classify, concurrency, cpu_quota, raise_by, settings_advice
from compare.measure import transient_text
from compare.modeled import MODEL_TOLERANCE, model_check, with_projections
from compare.report.capacity import deployed_path_blocks
from compare.report.document import Table
from compare.results import (
    DeployedPathResult,
    RunResults,
    ServerCpu,
    from_json,
    read_results,
    write_results,
)
from tests.compare.sample import (
    LATENCY,
    REPORTS,
    a_window,
    full_sample_json,
    full_sample_results,
    sample_results,
)


def _evidence(**changes: Any) -> Evidence:
    base: dict[str, Any] = {
        "send_lag_p99_ms": 2.0,
        "store_kept_up": True,
        "store_busy": False,
        "cpu_vcpu": 0.1,
        "cpu_quota_vcpu": 0.25,
        "in_flight_max": 3,
        "concurrency_limit": 40,
    }
    return Evidence(**(base | changes))


@pytest.mark.parametrize(
    ("changes", "bound"),
    [
        ({"cpu_vcpu": 0.245}, "cpu"),  # Fargate at its 0.25 vCPU
        ({"cpu_vcpu": 0.3, "cpu_quota_vcpu": 2.0, "in_flight_max": 8, "concurrency_limit": 8}, "concurrency"),
        ({"throttles": 12}, "concurrency"),  # Lambda: no free environment
        # moto's lateness is in the latencies, when it is a material part of them
        (
            {"store_kept_up": False, "store_lateness_p99_ms": 40.0, "p99_ms": 300.0, "cpu_vcpu": 0.245},
            "store",
        ),
        ({"store_kept_up": False, "store_lateness_p99_ms": 6.0, "p99_ms": 900.0, "cpu_vcpu": 0.245}, "cpu"),
        ({"store_busy": True}, "store"),
        ({"generator_flagged": True, "cpu_vcpu": 0.245}, "generator"),  # above its proven headroom
        ({"send_lag_p99_ms": 60.0}, "generator"),  # late, and neither bound reached
        ({"send_lag_p99_ms": 60.0, "in_flight_max": 40}, "concurrency"),  # a full server, a late generator
        (
            {"throttles": 3, "store_kept_up": False, "store_lateness_p99_ms": 50.0, "p99_ms": 60.0},
            "concurrency",
        ),
    ],
)
def test_limited_by_is_judged_from_evidence(changes: dict[str, Any], bound: str) -> None:
    limited_by, reason = classify(_evidence(**changes))
    assert limited_by == bound and reason


def test_neither_at_its_limit_names_the_nearer_and_says_so() -> None:
    limited_by, reason = classify(_evidence(cpu_vcpu=0.15, in_flight_max=4))
    assert limited_by == "cpu" and "neither at its limit" in reason


def test_concurrency_limits_come_from_how_each_runtime_runs() -> None:
    gthread = {"worker_class": "gthread", "threads": 4, "workers": 2}
    assert concurrency("ec2", 2, 32, gthread).limit == 8
    assert "4 threads" in concurrency("ec2", 2, 32, gthread).basis
    assert concurrency("ec2", 2, 32, {"worker_class": "ec2.worker.CafeWorker"}).limit == 80
    assert concurrency("fargate", 1, 32).limit == 40
    assert concurrency("lambda", None, 32).limit == 32
    assert concurrency("ec2", None, 32).limit >= 1  # the unit's own gunicorn.conf.py, read


def test_cpu_quota_is_the_envelope_never_above_the_machine() -> None:
    assert cpu_quota("fargate", 0.25, 32, cores=2) == 0.25
    assert cpu_quota("ec2", 2.0, 32, cores=1) == 1.0
    assert cpu_quota("lambda", 0.29, 32, cores=2) == 2.0  # 32 environments × 0.29 vCPU, on 2 cores
    assert cpu_quota("lambda", None, 32, cores=2) == 2.0  # not enforced: the machine


def test_what_would_raise_each_bound() -> None:
    limit = concurrency("ec2", 2, 32, {"worker_class": "gthread", "threads": 4})
    assert "WEB_CONCURRENCY" in raise_by("ec2", "concurrency", limit, 2.0)
    assert "task" in raise_by("fargate", "cpu", concurrency("fargate", 1, 32), 0.25)
    assert "reserved concurrency" in raise_by("lambda", "concurrency", concurrency("lambda", None, 32), 0.29)
    assert "memory" in raise_by("lambda", "cpu", concurrency("lambda", None, 32), 0.29)
    assert raise_by("ec2", "store", limit, 2.0).startswith("not the runtime")
    assert raise_by("ec2", "generator", limit, 2.0).startswith("not the runtime")


def _deployed(p50: float, p99: float, **changes: Any) -> dict[str, Any]:
    reference = json.loads(
        json.dumps(__import__("compare.results", fromlist=["to_json"]).to_json(a_window()))
    )
    reference["latency_ms"].update({"p50": p50, "p99": p99})
    base: dict[str, Any] = {
        "capacity_rps": 100.0,
        "limited_by": "cpu",
        "p50_ms": p50,
        "p99_ms": p99,
        "in_flight_max": 13,
        "store_kept_up": True,
        "reason": "at 200 req/s: p99 1608.7 ms > 500 ms; CPU 0.25 of 0.25 vCPU (99 %): at its quota",
        "raise_by": "a larger task (Cpu units; 0.25 vCPU now) or more tasks (target tracking)",
        "concurrency_limit": 40,
        "concurrency_basis": "1 uvicorn worker(s) × 40 threads",
        "cpu_quota_vcpu": 0.25,
        "reference_rps": 100.0,
        "reference": reference,
        "reference_store": {
            "calls": reference["requests"],
            "calls_per_s": 100.0,
            "in_flight_max": 3,
            "excess_p50_ms": 0.0,
            "excess_p99_ms": 1.0,
            "late_share": 0.0,
            "kept_up": True,
        },
        "steps": [
            {
                "rate_rps": 100.0,
                "ok": True,
                "verdict": "ok",
                "throughput_rps": 100.0,
                "p50_ms": p50,
                "p99_ms": p99,
                "errors": 0,
                "cpu_vcpu": 0.22,
                "in_flight_max": 3,
                "store": None,
                "send_lag_p99_ms": 1.0,
            }
        ],
    }
    return base | changes


def _with_deployed() -> RunResults:
    data = full_sample_json()
    for entry in data["runtimes"].values():
        entry["deployed_path"] = _deployed(12.0, 35.0)
        entry["capacity"]["deployed_path_rps"] = 100.0
    return from_json(RunResults, data)


def test_results_json_carries_the_deployed_path_and_older_files_still_load(tmp_path: Path) -> None:
    results = _with_deployed()
    back = read_results(write_results(results, tmp_path))
    path = back.runtimes["fargate"].deployed_path
    assert path is not None and path.limited_by == "cpu" and path.capacity_rps == 100.0
    assert back.runtimes["fargate"].capacity is not None
    assert back.runtimes["fargate"].capacity.deployed_path_rps == 100.0
    stored = json.loads((tmp_path / "results.json").read_text())["runtimes"]["fargate"]["deployed_path"]
    assert {"capacity_rps", "limited_by", "p50_ms", "p99_ms", "in_flight_max", "store_kept_up"} <= set(stored)
    older = sample_results()  # a results.json from before the deployed path: no such fields
    assert all(e.deployed_path is None for e in older.runtimes.values())
    assert all(e.capacity is None or e.capacity.deployed_path_rps is None for e in older.runtimes.values())
    assert deployed_path_blocks(full_sample_results()) == []


def test_the_report_shows_it_beside_the_sqlite_capacity_with_the_bound() -> None:
    blocks = deployed_path_blocks(_with_deployed())
    table = next(b for b in blocks if isinstance(b, Table) and "deployed-path capacity req/s" in b.headers)
    fargate = next(row for row in table.rows if row[0] == "fargate")
    assert fargate[1] == "400" and fargate[2] == "100" and fargate[3] == "cpu"
    text = repr(blocks)
    assert "local emulation, DynamoDB delayed as modeled" in text and "larger task" in text


def test_model_against_emulation_agrees_or_names_the_input() -> None:
    overheads = load_overheads()
    results = with_projections(_with_deployed(), overheads)
    entry = results.runtimes["ec2"]
    assert entry.deployed_path is not None
    check = entry.deployed_path.model
    assert check is not None and check.tolerance == MODEL_TOLERANCE
    # Now an emulation twice as slow as the projection: it disagrees, and an input is named.
    modeled = check.modeled_p50_ms
    slow = replace(
        entry,
        deployed_path=replace(
            entry.deployed_path, p50_ms=2 * modeled, p99_ms=2 * check.modeled_p99_ms, model=None
        ),
    )
    worse = model_check("ec2", slow, overheads, results.workload.by_operation)
    assert worse is not None and not worse.agrees and worse.disagrees
    close = replace(
        entry,
        deployed_path=replace(
            entry.deployed_path, p50_ms=modeled * 1.05, p99_ms=check.modeled_p99_ms * 0.95, model=None
        ),
    )
    agreeing = model_check("ec2", close, overheads, results.workload.by_operation)
    assert agreeing is not None and agreeing.agrees and agreeing.disagrees == ""
    blocks = deployed_path_blocks(
        replace(
            results,
            runtimes={
                **results.runtimes,
                "ec2": replace(entry, deployed_path=replace(entry.deployed_path, model=worse)),
            },
        )
    )
    assert any(isinstance(b, Table) and "within ±20 %" in b.headers for b in blocks)


def test_deployed_path_result_capacity_text() -> None:
    path = from_json(DeployedPathResult, _deployed(10.0, 30.0, limit_found=False, limited_by=None))
    assert path.capacity_text() == "≥ 100"


def test_the_cost_model_sizes_from_the_deployed_path_capacity() -> None:
    """A runtime bound (cpu, concurrency) reaches the profile with its label, scaled by vCPU to the
    unit the profile prices; the sizing then never asks a unit for more than that."""

    from compare import costlink
    from compare.cost.profile import DEPLOYED_PATH, DEPLOYED_PATH_SCALED
    from compare.cost.sizing import units_for

    results = _with_deployed()
    profile = costlink.measured_profile(results, {"region": "us-east-1"})
    assert profile["fargate"]["capacity_rps_per_task"] == 100.0
    assert profile["provenance"]["fargate.capacity_rps_per_task"] == DEPLOYED_PATH
    # EC2 measured as a t4g.micro (2 vCPU, the sample's envelope): a t4g.small has the same 2 vCPU.
    assert profile["ec2"]["capacity_rps_per_instance"] == 100.0
    # Another unit size: the capacity scaled by its vCPU, and the label says so.
    chain = {"region": "us-east-1", "fargate": {"vcpu": 1.0}, "ec2": {"instance_type": "m7g.medium"}}
    larger = costlink.measured_profile(results, chain)
    assert larger["fargate"]["capacity_rps_per_task"] == 400.0
    assert larger["ec2"]["capacity_rps_per_instance"] == 50.0  # one vCPU: half the t4g's two
    assert larger["provenance"]["fargate.capacity_rps_per_task"] == DEPLOYED_PATH_SCALED
    # Every profile's servers sized with these figures, each saying what set its count.
    sizing = costlink.profiles_sizing(results, sorted(costlink.BASE_PROFILE.parent.glob("*.json")))
    assert {(u.profile, u.runtime) for u in sizing} == {
        (p, r) for p in ("small-cafe", "busy-cafe", "city-chain") for r in ("fargate", "ec2")
    }
    chain_task = next(u for u in sizing if u.profile == "city-chain" and u.runtime == "fargate")
    assert chain_task.unit == "1 vCPU task" and chain_task.capacity_rps == 400.0
    assert chain_task.capacity_source == DEPLOYED_PATH_SCALED and "on the deployed path" in chain_task.binding
    # A bound that is not the runtime's (the local store, the generator) never sizes a bill.
    data = full_sample_json()
    for entry in data["runtimes"].values():
        entry["deployed_path"] = _deployed(12.0, 35.0, limited_by="store")
    store_bound = costlink.measured_profile(from_json(RunResults, data), {"region": "us-east-1"})
    assert "capacity_rps_per_task" not in store_bound.get("fargate", {})

    assert units_for(250.0, 2.0, 0.25, 0.6) == 4  # CPU alone: 0.5 vCPU at ≤ 60 % of 0.25
    assert units_for(250.0, 2.0, 0.25, 0.6, capacity_rps=50.0) == 5  # 50 req/s each within the SLO
    assert units_for(250.0, 2.0, 0.25, 0.6, capacity_rps=500.0) == 4


def test_a_window_measured_before_steady_is_named_first_where_they_disagree() -> None:
    overheads = load_overheads()
    results = with_projections(_with_deployed(), overheads)
    entry = results.runtimes["fargate"]
    assert entry.deployed_path is not None and entry.deployed_path.model is not None
    modeled = entry.deployed_path.model.modeled_p50_ms
    transient = replace(
        entry,
        deployed_path=replace(
            entry.deployed_path, p50_ms=5 * modeled, p99_ms=5000.0, steady=False, model=None
        ),
    )
    check = model_check("fargate", transient, overheads, results.workload.by_operation)
    assert check is not None and not check.agrees and check.disagrees.startswith("not steady")


def test_a_transient_reference_window_is_described_by_who_answered_and_the_starts_it_met() -> None:
    latency = {**LATENCY, "p99": 4362.2}
    window = a_window(
        latency_ms=latency,
        errors_by_cause={"front_door:500": 195, "application:store_busy": 2},
        lambda_reports={**REPORTS, "cold_starts": 30},
    )
    text = transient_text(window)
    assert text == "195 answered by the front door (API Gateway) 500, 30 cold starts; p99 4362 ms"
    assert transient_text(a_window(errors_by_cause={"transport:timeout": 1})).startswith("1 no answer")


def test_another_thread_or_worker_count_is_advised_only_where_threads_were_the_bound() -> None:
    gthread = concurrency("ec2", 2, 32, {"worker_class": "gthread", "threads": 4, "workers": 2})
    filled = settings_advice("ec2", "concurrency", 0.2, gthread, 100.0)
    assert filled.startswith("yes") and "≈ 400 req/s" in filled and "estimated" in filled
    task = concurrency("fargate", 1, 32)
    assert settings_advice("fargate", "cpu", 0.99, task, 100.0).startswith("no other count")
    assert settings_advice("ec2", "generator", 0.2, gthread, 200.0).startswith("not shown here: this machine")
    assert settings_advice("ec2", None, None, gthread, 400.0).startswith("not shown here: no step")
    assert "no thread or worker count" in settings_advice("lambda", "concurrency", 0.5, task, 200.0)


def test_where_the_emulation_is_faster_the_hop_taken_off_each_draw_is_named_not_queueing() -> None:
    overheads = load_overheads()
    results = with_projections(_with_deployed(), overheads)
    entry = results.runtimes["fargate"]
    path = entry.deployed_path
    assert path is not None and path.model is not None
    modeled = path.model
    assert path.reference is not None
    cpu = {"root": 0.1, "children": 0.0, "total": 0.1}
    server_cpu = {"seconds": cpu, "ms_per_request": cpu, "share_of_one_core": 0.24, "requests_counted": 100}
    busy = replace(path.reference, server_cpu=from_json(ServerCpu, server_cpu))
    fast = replace(
        entry,
        deployed_path=replace(
            path,
            p50_ms=0.7 * modeled.modeled_p50_ms,
            p99_ms=0.9 * modeled.modeled_p99_ms,
            hop_ms=2.0,
            reference=busy,
            model=None,
        ),
    )
    check = model_check("fargate", fast, overheads, results.workload.by_operation)
    assert check is not None and not check.agrees
    assert check.disagrees.startswith("the local hop to moto taken off each draw: 2.00 ms per call")
    assert "the emulation is the faster" in check.disagrees
    slow = replace(fast, deployed_path=replace(fast.deployed_path, p50_ms=2 * modeled.modeled_p50_ms))  # type: ignore[arg-type]
    check = model_check("fargate", slow, overheads, results.workload.by_operation)
    assert check is not None and check.disagrees.startswith("queueing: the runtime's CPU at 96 %")


def test_a_gap_in_the_tail_alone_that_no_input_explains_says_so_with_the_window_size() -> None:
    overheads = load_overheads()
    results = with_projections(_with_deployed(), overheads)
    entry = results.runtimes["ec2"]
    path = entry.deployed_path
    assert path is not None and path.model is not None and path.reference is not None
    tail = replace(
        entry,
        deployed_path=replace(
            path,
            p50_ms=path.model.modeled_p50_ms,
            p99_ms=3 * path.model.modeled_p99_ms,
            model=None,
            hop_ms=0.0,
        ),
    )
    check = model_check("ec2", tail, overheads, results.workload.by_operation)
    assert check is not None and not check.agrees
    assert (
        check.disagrees.startswith("the tail alone")
        and f"over {path.reference.requests} requests" in check.disagrees
    )
