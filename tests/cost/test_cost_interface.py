"""The snapshot's integrity, the estimate() document, the CLI and `make cost`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compare.cost import breakeven_chart, estimate
from compare.cost.prices import PriceBook, PriceError, latest_snapshot
from compare.cost.profile import ProfileError, parse
from tests.cost.conftest import ISSUE_PROFILE

ROOT = Path(__file__).resolve().parents[2]
PROFILES = sorted((ROOT / "compare/cost/profiles").glob("*.json"))
REQUIRED_FIGURES = [
    "lambda.requests",
    "lambda.duration.x86_64",
    "lambda.duration.arm64",
    "apigw.rest.requests",
    "apigw.http.requests",
    "fargate.vcpu_hour.x86_64",
    "fargate.vcpu_hour.arm64",
    "fargate.gb_hour.x86_64",
    "fargate.gb_hour.arm64",
    "elb.alb.hour",
    "elb.alb.lcu_hour",
    "vpc.public_ipv4.hour",
    "vpc.nat.hour",
    "ebs.gp3.gb_month",
    "dynamodb.ondemand.read",
    "dynamodb.ondemand.write",
    "cloudwatch.logs.ingest",
    "lightsail.bundle.5",
    "elasticbeanstalk.service",
    "apprunner.vcpu_hour",
]


def test_snapshot_has_source_and_basis_for_every_figure() -> None:
    data = json.loads(latest_snapshot().read_text())
    assert set(REQUIRED_FIGURES) <= set(data["figures"])
    for name, spec in data["figures"].items():
        assert set(spec["regions"]) == set(data["regions"]) == {"us-east-1", "ap-northeast-2"}, name
        for region, entry in spec["regions"].items():
            assert entry["source"] in data["sources"], (name, region)
            assert entry["basis"], (name, region)
            known = entry.get("usd", entry.get("tiers")) is not None
            assert known == ("as_of" in entry), (name, region)  # a figure has a date; an unknown says so
            if not known:
                assert entry["basis"].startswith("unknown"), (name, region)
    for name, spec in data["instance_types"].items():
        assert f"ec2.ondemand.{name}" in data["figures"]
        assert spec["vcpu"] >= 1 and 0 < spec["baseline_pct"] <= 100
    assert data["instance_types"]["t4g.small"] == {
        "vcpu": 2,
        "memory_gib": 2,
        "arch": "arm64",
        "burstable": True,
        "baseline_pct": 20,
        "source": "aws-docs",
    }
    assert all(d["basis"] for d in data["discounts"].values())


def test_seoul_uses_its_own_figure_or_says_it_fell_back() -> None:
    book = PriceBook.load("ap-northeast-2")
    assert book.price("ec2.ondemand.t4g.small").usd == 0.0208
    assert not book.warnings
    nat = book.price("vpc.nat.hour")
    assert nat.fallback and nat.region == "us-east-1" and "fallback" in nat.label()
    assert any("vpc.nat.hour" in w for w in book.warnings)
    with pytest.raises(PriceError):
        book.instance_type("t2.micro")


def test_estimate_document() -> None:
    result = estimate(ISSUE_PROFILE)
    for runtime in ("lambda", "fargate", "ec2"):
        r = result["runtimes"][runtime]
        assert isinstance(r["monthly_usd"], float) and r["label"] == "modeled"
        for item in r["items"]:
            assert {"name", "quantity", "unit", "unit_usd", "usd"} <= set(item)
            assert item["usd"] == pytest.approx(item["quantity"] * item["unit_usd"], abs=1e-5)
        assert r["monthly_usd"] == pytest.approx(sum(i["usd"] for i in r["items"]), abs=1e-3)
        # 100 orders a day for 730 / 24 days
        assert r["usd_per_1000_orders"] == pytest.approx(r["monthly_usd"] / (100 * 730 / 24) * 1000, rel=1e-4)
    lam = result["runtimes"]["lambda"]["items"]
    added = ("X-Ray", "CloudWatch custom metrics", "Log group storage")
    # $14.2585 per 3 M requests (the hand computation of test_cost_lambda), linear at this volume
    requests = result["traffic"]["requests_per_month"]
    assert result["workload"]["monthly_requests"] == pytest.approx(requests, abs=0.1)
    linear = sum(i["usd"] for i in lam if not i["name"].startswith(added))
    assert linear == pytest.approx(14.2585 / 3e6 * requests, rel=1e-4)
    assert {i["name"].split(" (")[0] for i in lam if i["name"].startswith(added)} == {
        "X-Ray traces recorded",
        "CloudWatch custom metrics from EMF",
        "Log group storage in CloudWatch",
    }
    assert {"breakeven", "recommendation", "memory_sweep", "provenance", "shared"} <= set(result)
    assert result["provenance"]["inputs"]["lambda.avg_billed_ms"] == "profile"
    assert result["provenance"]["inputs"]["lambda.init_ms"] == "default (assumed)"


def test_provenance_labels_pass_through() -> None:
    raw = {
        **ISSUE_PROFILE,
        # without tracing and custom metrics, so Lambda stays the cheapest and carries the label
        "lambda": {**ISSUE_PROFILE["lambda"], "xray": False, "emf_metrics": False},
        "slo_p99_ms": 300,
        "p99_ms": {"lambda": 210, "ec2": 40},
        "provenance": {
            "lambda.avg_billed_ms": "measured on AWS",
            "p99_ms.lambda": "measured on AWS",
            "p99_ms.ec2": "measured here",
        },
    }
    result = estimate(raw, with_breakeven=False)
    assert result["provenance"]["inputs"]["lambda.avg_billed_ms"] == "measured on AWS"
    assert result["memory_sweep"]["measured_at"]["provenance"] == "measured on AWS"
    assert "measured on AWS" in result["recommendation"]["reason"]
    with pytest.raises(ProfileError, match="provenance"):
        parse({**ISSUE_PROFILE, "provenance": {"lambda.avg_billed_ms": "trust me"}})


def test_requests_are_derived_from_the_census_never_typed() -> None:
    p = parse({"orders_per_day": 150})
    assert p.monthly_orders == pytest.approx(150 * 730 / 24)
    # The customer's polls and the screens' make hundreds of requests per order, not a handful.
    assert p.requests_per_order == pytest.approx(p.monthly_requests / p.monthly_orders)
    assert p.traffic.by_source["customers"] > 20 * p.monthly_orders
    with pytest.raises(ProfileError, match="derived from the census"):
        parse({"orders_per_day": 150, "requests_per_order": 8})
    with pytest.raises(ProfileError, match="orders_per_day"):
        parse({"region": "us-east-1"})


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_example_profiles_price(path: Path) -> None:
    result = estimate(json.loads(path.read_text()), with_breakeven=False)
    assert all(r["monthly_usd"] > 0 for r in result["runtimes"].values())
    assert result["recommendation"]["reason"]


def test_breakeven_chart_png(tmp_path: Path) -> None:
    result = estimate(ISSUE_PROFILE)
    out = breakeven_chart(result, tmp_path / "chart" / "breakeven.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_bad_profile_prints_nothing_on_stdout(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**ISSUE_PROFILE, "fargate": {"spot": True, "pricing": "savings-plan-1y"}}))
    proc = subprocess.run(
        [sys.executable, "-m", "compare.cost", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and proc.stdout == "" and "Spot" in proc.stderr


def _clean_env() -> dict[str, str]:
    """A shell user's environment: no make variables inherited from a `make test` around us."""
    return {
        k: v for k, v in os.environ.items() if k not in {"MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES"}
    }


@pytest.mark.parametrize("profile", [None, "compare/cost/profiles/city-chain.json"])
def test_make_cost_prints_exactly_one_json_document(profile: str | None) -> None:
    cmd = ["make", "cost"] + ([f"PROFILE={profile}"] if profile else [])
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, env=_clean_env())
    assert proc.returncode == 0, proc.stderr
    doc, end = json.JSONDecoder().raw_decode(proc.stdout)
    assert proc.stdout[end:].strip() == ""  # nothing after the one document, and nothing before it
    assert proc.stdout.startswith("{")
    assert set(doc["runtimes"]) == {"lambda", "fargate", "ec2"}
    assert doc["region"] == ("ap-northeast-2" if profile else "us-east-1")


def test_misspelt_key_is_refused() -> None:
    with pytest.raises(ProfileError, match=r"fargate\.task\b"):
        parse({**ISSUE_PROFILE, "fargate": {"task": 3}})
    with pytest.raises(ProfileError, match=r"traffic\.board\b"):
        parse({**ISSUE_PROFILE, "traffic": {"board": 2}})
