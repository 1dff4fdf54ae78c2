"""A small but complete run's results for the report and cost-link tests (no measuring)."""

from __future__ import annotations

from typing import Any

from compare.results import LOCAL_LABEL, RunResults, Window, from_json

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
