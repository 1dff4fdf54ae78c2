"""A small but complete run's results for the report and cost-link tests (no measuring)."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

from compare.results import LOCAL_LABEL, MEASURED_HERE, CostSection, RunResults, Window, from_json, to_json

LATENCY = {"p50": 2.0, "p90": 4.0, "p99": 9.0, "p99.9": 12.0, "max": 15.0, "mean": 2.5}
REPORTS = {
    "invocations": 100,
    "cold_starts": 2,
    "billed_ms": {"median": 3, "mean": 3.4, "p99": 9, "total": 340},
    "billed_warm_ms": {"median": 3, "mean": 3.1},
    "duration_ms": {"median": 2.2, "p99": 8, "mean": 2.5},
    "init_ms": {"median": 150, "max": 170},
    "memory_size_mb": 512,
    "max_memory_used_mb": 80,
}


def window(**extra: Any) -> dict[str, Any]:
    return {
        "requests": 100,
        "errors": 0,
        "error_rate": 0.0,
        "errors_by_status": {},
        "statuses": {"200": 100},
        "throughput_rps": 100.0,
        "window_s": 1.0,
        "warmup_excluded": 10,
        "latency_ms": LATENCY,
        "by_operation": {"menu": {"requests": 100, "latency_ms": LATENCY}},
        "offered_rps": 100.0,
        "planned": 110,
        "skipped": 0,
        "planned_rate_rps": 100.0,
        "send_lag_ms": LATENCY,
        "generator_cpu_s": 0.1,
        "generator_cpu_share": 0.05,
        "target_rate_rps": 100.0,
        **extra,
    }


def a_window(**changes: Any) -> Window:
    """A typed `Window`, with `changes` (JSON-shaped) over the sample's."""
    return from_json(Window, window(**changes))


def spread(median: float, n: int = 10) -> dict[str, float]:
    return {"n": n, "median": median, "min": median, "max": median, "q1": median, "q3": median}


def sample_json() -> dict[str, Any]:
    cpu = {"root": 0.1, "children": 0.07, "total": 0.17}
    per_request = {"root": 1.0, "children": 0.7, "total": 1.7}
    server_cpu = {
        "seconds": cpu,
        "ms_per_request": per_request,
        "share_of_one_core": 0.2,
        "requests_counted": 100,
    }
    step = window(verdict={"ok": True, "reason": "ok"})
    capacity = {
        "slo": {"p99_ms": 100, "max_error_rate": 0.0, "min_delivery": 0.9},
        "steps": [step],
        "sustainable_rps": 100.0,
        "limit_found": False,
        "stopped": "every step passed: the limit lies above the highest step",
    }
    return {
        "schema_version": 2,
        "mode": "local",
        "source": LOCAL_LABEL,
        "provenance": {
            "date_utc": "2026-12-02 00:00:00 UTC",
            "platform": "Linux",
            "cpu_count": 2,
            "cpu_model": "x",
            "memory_gb": 4.0,
            "load_average": [0.5, 0.4, 0.3],
            "git_revision": "abc1234",
            "versions": {"python": "3.11.7"},
            "command": "make compare",
            "argv": ["python", "-m", "compare", "run"],
        },
        "options": {
            "rates": [100.0],
            "step_s": 1.0,
            "warmup_s": 0.5,
            "reference_rate": 100.0,
            "reference_s": 1.0,
            "reference_warmup_s": 0.5,
            "reference_rounds": 1,
            "round_warmup_s": 0.5,
            "slo_p99_ms": 100,
            "cold_starts": 10,
            "runtimes": ["lambda", "ec2"],
            "lambda_concurrency": 32,
            "lambda_memory_mb": 512,
            "fargate_workers": 1,
            "base_port": 18001,
            "workload": "compare/load/workload.toml",
            "out_dir": "reports",
            "headroom": False,
            "headroom_s": 1.0,
            "targets": [],
            "staff_token": None,
            "lambda_log_group": None,
            "ec2_instance_id": None,
            "region": None,
            "cost_profile": "compare/cost/profiles/small-cafe.json",
            "command": "make compare",
        },
        "workload": {
            "file": "workload.toml",
            "seed": 7,
            "visits": [{"name": "browse", "weight": 1, "steps": ["menu"]}],
        },
        "runtimes": {
            "lambda": {
                "description": "local Lambda",
                "url": "http://127.0.0.1:1",
                "source": LOCAL_LABEL,
                "reference": window(lambda_reports=REPORTS),
                "capacity": capacity,
                "cold_start": {
                    "what": "fresh environment",
                    "samples": [
                        {"init_ms": 151.0, "first_invoke_ms": 3.0, "total_ms": 160.0, "billed_ms": 154}
                    ],
                    "init_ms": spread(151.0),
                    "first_invoke_ms": spread(3.0),
                    "total_ms": spread(160.0),
                    "billed_ms": spread(154.0),
                },
            },
            "ec2": {
                "description": "gunicorn",
                "url": "http://127.0.0.1:2",
                "source": LOCAL_LABEL,
                "reference": window(server_cpu=server_cpu),
                "capacity": capacity,
                "cold_start": {
                    "what": "spawn → healthy",
                    "samples": [{"healthy_ms": 400.0, "first_request_ms": 5.0, "status": 200}],
                    "healthy_ms": spread(400.0),
                    "first_request_ms": spread(5.0),
                },
            },
        },
        "headroom": None,
        "wall_s": 12.0,
    }


def sample_results() -> RunResults:
    return from_json(RunResults, sample_json())


# --- a run with every later field filled (envelopes, CPU per store, projection, the day) -----------


def _ladder(rates: list[float], saturate_at: float, p99_at: dict[float, float]) -> list[dict[str, Any]]:
    """Capacity steps that fall behind above `saturate_at` (achieved drops, as a saturated step does)."""
    steps = []
    for rate in rates:
        achieved = rate if rate <= saturate_at else saturate_at * 0.8
        p99 = p99_at.get(rate, 9.0)
        ok = p99 <= 100 and rate <= saturate_at
        reason = "ok" if ok else f"p99 {p99:g} ms > SLO 100 ms"
        latency = {**LATENCY, "p99": p99, "p99.9": p99 * 1.2, "max": p99 * 1.5}
        steps.append(
            window(
                target_rate_rps=rate,
                offered_rps=rate,
                throughput_rps=achieved,
                latency_ms=latency,
                verdict={"ok": ok, "reason": reason},
            )
        )
    return steps


def _projection(p50: float, p99: float, hop: str, hop_ms: float) -> dict[str, Any]:
    return {
        "p50_ms": p50,
        "p99_ms": p99,
        "inputs": [
            {"name": "service time p50 under the envelope (ms)", "value": 2.0, "source": MEASURED_HERE},
            {"name": f"{hop} overhead p50 (ms)", "value": hop_ms, "source": "AWS documentation (2026-11)"},
            {"name": "DynamoDB round trip p50 (ms)", "value": 4.0, "source": "published measurement"},
            # What compare.modeled records: distributions and tables as their JSON description.
            {
                "name": "dynamodb.GetItem.ms",
                "value": {"dist": "lognormal", "median": 4.0, "p99": 12.0},
                "source": "AWS documentation",
            },
            {"name": "operation mix", "value": {"menu": 0.5, "place_order": 0.5}, "source": "caller"},
        ],
    }


def full_sample_json(*, enforced: bool = True, kept_up: bool = True) -> dict[str, Any]:
    """The sample with the fields later issues fill, three runtimes, a ladder that saturates."""
    data = sample_json()
    data["slo"] = {"p99_ms": 100, "source": "command line"}  # sample_json is an older file: no "slo"
    data["options"]["runtimes"] = ["lambda", "fargate", "ec2"]
    data["options"]["rates"] = [50.0, 100.0, 200.0, 400.0, 800.0]
    data["runtimes"]["fargate"] = {
        **copy.deepcopy(data["runtimes"]["ec2"]),
        "description": "uvicorn, 1 worker",
        "url": "http://127.0.0.1:3",
    }
    ladders = {
        "lambda": _ladder([50, 100, 200, 400], 200, {400: 450.0}),
        "fargate": _ladder([50, 100, 200, 400, 800], 400, {800: 900.0}),
        "ec2": _ladder([50, 100, 200, 400, 800], 800, {}),
    }
    sustainable = {"lambda": 200.0, "fargate": 400.0, "ec2": 800.0}
    envelopes = {
        "lambda": {"cpu_vcpu": 0.29, "memory_mb": 512, "basis": "512 MB / 1,769 MB per vCPU"},
        "fargate": {"cpu_vcpu": 0.25, "memory_mb": 512, "basis": "task size 0.25 vCPU", "workers": 1},
        "ec2": {"cpu_vcpu": 2.0, "memory_mb": 1024, "basis": "t4g.micro", "credits": "unlimited"},
    }
    projections = {
        "lambda": _projection(38.0, 95.0, "API Gateway REST", 18.0),
        "fargate": _projection(14.0, 41.0, "ALB", 3.0),
        "ec2": _projection(12.0, 36.0, "none (single instance)", 0.0),
    }
    ready = {
        "fargate": {"what": "task start → healthy", "seconds": 45.0, "source": "AWS documentation (2026-11)"},
        "ec2": {
            "what": "EC2 launch → ALB healthy (scale-out)",
            "seconds": 121.0,
            "source": "launch → SSH (published measurement): brevdev; user data install (assumption): ours; "
            "ALB health checks (assumption): ours",
            "parts": [
                {"what": "launch → SSH", "seconds": 26.0, "kind": "published measurement", "source": "x"},
                {"what": "user data install", "seconds": 75.0, "kind": "assumption", "source": "ours"},
                {"what": "ALB health checks", "seconds": 20.0, "kind": "assumption", "source": "ours"},
            ],
        },
    }
    days = {
        "lambda": {"requests": 5600, "p99_ms": 240.0, "cold_start_share": 0.012, "usd": 0.11},
        "fargate": {"requests": 5600, "p99_ms": 42.0, "cold_start_share": 0.0, "usd": 0.39},
        "ec2": {"requests": 5600, "p99_ms": 37.0, "cold_start_share": 0.0, "usd": 0.28},
    }
    for name, entry in data["runtimes"].items():
        steps = ladders[name]
        entry["capacity"] = {
            "slo": {"p99_ms": 100, "max_error_rate": 0.0, "min_delivery": 0.9},
            "steps": steps,
            "sustainable_rps": sustainable[name],
            "limit_found": True,
            "stopped": "the next step broke the SLO",
        }
        mechanism = "cgroup-v1" if enforced else "none"
        entry["envelope"] = {**envelopes[name], "enforced": enforced, "mechanism": mechanism}
        entry["cpu_ms_per_request"] = {
            "sqlite": 1.7,
            "dynamodb": 3.9,
            "billed_ms_dynamodb": 6.0 if name == "lambda" else None,
        }
        entry["dynamodb_round_trips"] = {"menu": 1, "place order": 3, "track": 1}
        entry["projection"] = projections[name]
        entry["aws_capacity_ready"] = ready.get(name)
        entry["day"] = days[name]
        cold = entry["cold_start"]
        cold["request_path_ms"] = 151.0 if name == "lambda" else None
        cold["capacity_ready_ms"] = 160.0 if name == "lambda" else 400.0
    data["generator"] = {
        "kept_up": kept_up,
        "processes": 1,
        "highest_rate_rps": 800.0,
        "checked_rate_rps": 1600.0,
        "affected": [] if kept_up else ["capacity steps above 400 req/s: sustainable rate (fargate, ec2)"],
    }
    data["day_chart"] = None  # a test that wants the chart draws it with compare.day.chart
    return data


def full_sample_results(**kwargs: bool) -> RunResults:
    return from_json(RunResults, full_sample_json(**kwargs))


def day_document(results: RunResults) -> dict[str, Any]:
    """A small day in the shape `python -m compare.day` prints, from the sample's day totals (for
    drawing the day chart beside a sample report)."""
    shape = [0] * 7 + [40, 90, 50, 30, 40, 90, 40, 30, 30, 20, 10] + [0] * 6
    runtimes = {}
    for name, entry in results.runtimes.items():
        day = entry.day
        if day is None:
            continue
        scale = day.requests / sum(shape)  # the hours add up to the day's total
        hours = [
            {
                "hour": h,
                "requests": round(n * scale),
                "p99_ms": (day.p99_ms or 0.0) * (1.0 if n >= 90 else 0.5) if n else None,
                "cold_start_share": day.cold_start_share,
                "capacity_units": 2 if n >= 90 else 1 if n else 0,
            }
            for h, n in enumerate(shape)
        ]
        runtimes[name] = {"hours": hours, "day": to_json(day)}
    return {"runtimes": runtimes, "provenance": {"seed": 7}}


def render_sample(
    out: Path, results: RunResults | None = None, cost: CostSection | None = None
) -> tuple[RunResults, dict[str, Path]]:
    """Write the report of `results` (default: the full sample) into `out` as a run would: the cost
    model priced with its figures (or `cost`, priced before for the same figures), the break-even
    chart and the day chart drawn beside it."""
    from compare.costlink import cost_section
    from compare.day.chart import day_chart
    from compare.report import write_report

    results = results if results is not None else full_sample_results()
    out.mkdir(parents=True, exist_ok=True)
    day = day_document(results)
    chart = str(day_chart(day, out / "day.png")) if day["runtimes"] else None
    results = replace(results, cost=cost or cost_section(results, out), day_chart=chart)
    return results, write_report(results, out)
