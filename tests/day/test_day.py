"""The simulated day end to end: its JSON shape in both modes (push, polling), reproducibility,
cost agreement with `make cost MODE=…`, the streams held and the notice delay per hour, the
results.json adapter and the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from compare.aws_model import load_overheads
from compare.cost.__main__ import main as cost_main
from compare.day import defaults, from_results, simulate_day
from compare.day.__main__ import main as day_main

PROFILES = Path(__file__).resolve().parents[2] / "compare" / "cost" / "profiles"
SMALL = PROFILES / "small-cafe.json"
HOUR_KEYS = {
    "hour",
    "requests",
    "p50_ms",
    "p99_ms",
    "cold_start_share",
    "capacity_units",
    "streams_held",
    "notice_p99_ms",
}
DAY_KEYS = {"requests", "p99_ms", "cold_start_share", "usd", "notice_p99_ms", "streams_held_peak"}


def raw(path: Path = SMALL) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def small_day() -> dict[str, Any]:
    return simulate_day(raw(), defaults(load_overheads()), seed=5)


def test_the_day_has_the_issue_shape(small_day: dict[str, Any]) -> None:
    assert small_day["mode"] == "push" and set(small_day["modes"]) == {"push", "polling"}
    assert small_day["runtimes"] == small_day["modes"]["push"]["runtimes"]  # the profile's own mode
    for mode, simulated in small_day["modes"].items():
        assert set(simulated["runtimes"]) == {"lambda", "fargate", "ec2"}
        for name, runtime in simulated["runtimes"].items():
            assert [h["hour"] for h in runtime["hours"]] == list(range(24))
            assert all(set(h) >= HOUR_KEYS for h in runtime["hours"]), (mode, name)
            assert set(runtime["day"]) >= DAY_KEYS
            assert sum(h["requests"] for h in runtime["hours"]) == runtime["day"]["requests"]
            closed = [h for h in runtime["hours"] if h["hour"] < 7 or h["hour"] >= 19]
            assert all(h["requests"] == 0 and h["p99_ms"] is None for h in closed)
            assert all(h["streams_held"] == 0 and h["notice_p99_ms"] is None for h in closed)
    assert small_day["provenance"]["inputs"]
    assert all({"name", "value", "source"} <= set(row) for row in small_day["provenance"]["inputs"])


def test_push_holds_streams_instead_of_polling_and_shows_changes_sooner(small_day: dict[str, Any]) -> None:
    pushed, polled = small_day["modes"]["push"], small_day["modes"]["polling"]
    assert pushed["requests_per_open_day"] < polled["requests_per_open_day"] / 5
    assert "poll" not in pushed["cafe_mix"] or pushed["cafe_mix"]["poll"] < polled["cafe_mix"]["poll"] / 5
    for name in ("lambda", "fargate", "ec2"):
        push_hours, poll_hours = pushed["runtimes"][name]["hours"], polled["runtimes"][name]["hours"]
        for push_hour, poll_hour in zip(push_hours, poll_hours, strict=True):
            if push_hour["requests"] == 0:
                continue
            assert push_hour["requests"] < poll_hour["requests"]
            assert push_hour["streams_held"] > 0 and poll_hour["streams_held"] == 0
            # Polling: the slowest screen's 3 s interval at its 99th percentile, then the request.
            assert poll_hour["notice_p99_ms"] == pytest.approx(2970 + poll_hour["p99_ms"], abs=0.1)
            assert push_hour["notice_p99_ms"] < poll_hour["notice_p99_ms"] / 3
        # The busiest hour holds the most streams: the peaks' customers follow their orders.
        held = [h["streams_held"] for h in push_hours]
        assert held.index(max(held)) in (8, 12)
        assert pushed["runtimes"][name]["day"]["streams_held_peak"] == max(held)


def test_the_servers_never_cold_start_a_request_and_lambda_sometimes_does(small_day: dict[str, Any]) -> None:
    runtimes = small_day["runtimes"]
    assert runtimes["fargate"]["day"]["cold_start_share"] == 0.0
    assert runtimes["ec2"]["day"]["cold_start_share"] == 0.0
    assert 0 < runtimes["lambda"]["day"]["cold_start_share"] < 0.05
    # a single EC2 instance serves all day (the small café has no ALB: the template's single mode)
    assert {h["capacity_units"] for h in runtimes["ec2"]["hours"]} == {1}


def test_the_same_seed_gives_the_same_bytes_and_another_seed_another_day() -> None:
    inputs = defaults(load_overheads())
    one = json.dumps(simulate_day(raw(), inputs, seed=9))
    assert one == json.dumps(simulate_day(raw(), inputs, seed=9))
    assert one != json.dumps(simulate_day(raw(), inputs, seed=10))


@pytest.mark.parametrize("profile", ["small-cafe.json", "busy-cafe.json"])
def test_the_days_cost_is_make_costs_figure_per_open_day(
    profile: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert day_main([str(PROFILES / profile), "--out", str(tmp_path), "--seed", "3"]) == 0
    day = json.loads(capsys.readouterr().out)
    for mode in ("push", "polling"):
        assert cost_main([str(PROFILES / profile), "--no-breakeven", "--mode", mode]) == 0
        cost = json.loads(capsys.readouterr().out)
        open_days = cost["workload"]["open_days_per_month"]
        for name in ("lambda", "fargate", "ec2"):
            simulated = day["modes"][mode]["runtimes"][name]["day"]
            assert simulated["usd"] == cost["runtimes"][name]["usd_per_open_day"]
            assert simulated["usd"] == pytest.approx(
                cost["runtimes"][name]["monthly_usd"] / open_days,
                rel=1e-4,  # both rounded in the JSON
            )


def test_the_command_prints_one_document_and_writes_the_chart(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert day_main([str(SMALL), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)  # exactly one JSON document: json.loads refuses trailing data
    assert (tmp_path / "day.png").stat().st_size > 10_000
    assert json.loads((tmp_path / "day.json").read_text(encoding="utf-8")) == document


def test_a_bad_profile_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"region": "us-east-1"}', encoding="utf-8")
    assert day_main([str(bad), "--no-chart"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "orders_per_day" in captured.err


def test_a_longer_idle_time_means_fewer_cold_starts() -> None:
    day = simulate_day(raw(PROFILES / "busy-cafe.json"), defaults(load_overheads()), seed=2)
    sweep = day["runtimes"]["lambda"]["idle_reap_sweep"]
    assert [row["idle_reap_s"] for row in sweep] == [300.0, 600.0, 1800.0, 3600.0]
    shares = [row["cold_start_share"] for row in sweep]
    assert shares == sorted(shares, reverse=True) and shares[0] > shares[-1]


def test_results_json_feeds_measured_service_times(tmp_path: Path) -> None:
    base = defaults(load_overheads())
    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            {
                "runtimes": {
                    "lambda": {
                        "cpu_ms_per_request": {"sqlite": 3.0, "dynamodb": 9.0},
                        "reference": {"lambda_reports": {"duration_ms": {"median": 0.8, "p99": 1.5}}},
                    },
                    "fargate": {"reference": {"latency_ms": {"p50": 2.0, "p90": 3.0, "p99": 6.0}}},
                    "ec2": {"reference": "not a dict", "cold_start": None},
                },
                "generator": {"kept_up": True},
            }
        ),
        encoding="utf-8",
    )
    measured = from_results(results, base)
    assert measured.cpu_ms["ec2"] is base.cpu_ms["ec2"]  # unreadable: the sourced default stays
    rows = {row["name"]: row["value"] for row in measured.rows if "results.json" in row["source"]}
    assert rows["service.cpu_ms.lambda"] == "CPU per request, DynamoDB path: median 9, p99 16.2 ms"
    assert rows["service.cpu_ms.fargate"].startswith("reference latency p50/p99")
    assert measured.cpu_ms["fargate"].quantile(0.99) == pytest.approx(6.0)  # type: ignore[attr-defined]
    slower = simulate_day(raw(), measured, seed=5)["runtimes"]["lambda"]["day"]["p99_ms"]
    assert slower > simulate_day(raw(), base, seed=5)["runtimes"]["lambda"]["day"]["p99_ms"]


def test_the_reference_windows_server_cpu_and_report_lines_are_read(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(
        json.dumps(
            {
                "runtimes": {
                    "lambda": {"reference": {"lambda_reports": {"duration_ms": {"median": 0.8, "p99": 1.5}}}},
                    "ec2": {"reference": {"server_cpu": {"ms_per_request": {"total": 1.2}}}},
                }
            }
        ),
        encoding="utf-8",
    )
    measured = from_results(results, defaults(load_overheads()))
    assert measured.cpu_ms["lambda"].quantile(0.5) == pytest.approx(0.8)  # type: ignore[attr-defined]
    assert measured.cpu_ms["ec2"].quantile(0.5) == pytest.approx(1.2)  # type: ignore[attr-defined]


def test_cpu_measured_on_the_dynamodb_path_already_includes_the_client(tmp_path: Path) -> None:
    base = defaults(load_overheads())
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"runtimes": {"fargate": {"cpu_ms_per_request": {"dynamodb": 4.0}}}}))
    measured = from_results(results, base)
    assert float(measured.client_cpu_ms["fargate"].sample(np.random.default_rng(0), 1)[0]) == 0.0
    assert measured.client_cpu_ms["ec2"] is base.client_cpu_ms["ec2"]
