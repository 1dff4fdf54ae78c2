"""The refresh parser on recorded-style Price List API responses, through botocore's Stubber."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from compare.cost import refresh as rf
from compare.cost.model import estimate
from compare.cost.prices import PriceBook, latest_snapshot
from tests.cost.conftest import ISSUE_PROFILE

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = "2026-11-27"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"get_products-{name}.json").read_text())


def params(service: str, filters: dict[str, str], token: str | None = None) -> dict[str, Any]:
    p: dict[str, Any] = {
        "ServiceCode": service,
        "Filters": [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    if token:
        p["NextToken"] = token
    return p


@pytest.fixture
def client() -> Any:
    return boto3.client("pricing", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")


LAMBDA_ARM = rf.Query(
    "lambda.duration.arm64",
    "AWSLambda",
    {"group": "AWS-Lambda-Duration-ARM"},
    "Lambda-GB-Second-ARM",
    "tiers",
)
EC2_T4G = rf.Query(
    "ec2.ondemand.t4g.small",
    "AmazonEC2",
    {"instanceType": "t4g.small", **rf.EC2_FILTERS},
    "BoxUsage:t4g.small",
    reserved=True,
)


def stub_lambda(stubber: Stubber) -> None:
    page1 = fixture("lambda-duration-arm-page1")
    lam_filters = {"group": "AWS-Lambda-Duration-ARM", "regionCode": "us-east-1"}
    stubber.add_response("get_products", page1, params("AWSLambda", lam_filters))
    stubber.add_response(
        "get_products",
        fixture("lambda-duration-arm-page2"),
        params("AWSLambda", lam_filters, page1["NextToken"]),
    )


def test_paginated_tiers_are_parsed(client: Any) -> None:
    with Stubber(client) as stubber:
        stub_lambda(stubber)
        products = list(
            rf.paginate_products(client, "AWSLambda", {**LAMBDA_ARM.filters, "regionCode": "us-east-1"})
        )
        stubber.assert_no_pending_responses()
    assert len(products) == 2  # one per page
    chosen = rf.pick(products, LAMBDA_ARM.usagetype_suffix)
    assert chosen is not None and chosen["product"]["attributes"]["usagetype"] == "Lambda-GB-Second-ARM"
    dims = rf.dimensions(chosen)
    assert [(d.begin, d.end, d.usd) for d in dims] == [
        (0.0, 7.5e9, 0.0000133334),
        (7.5e9, 18.75e9, 0.0000120001),
        (18.75e9, None, 0.0000106667),
    ]


def test_reserved_terms_become_discounts() -> None:
    (item,) = fixture("ec2-t4g-small")["PriceList"]
    product = json.loads(item)
    (dim,) = rf.dimensions(product)
    assert (dim.usd, dim.unit) == (0.0168, "Hrs")
    # standard, no upfront: 1 − 0.0106/0.0168 = 0.369; 1 − 0.0073/0.0168 = 0.5655.
    # The partial-upfront and convertible terms are ignored.
    assert rf.reserved_discounts(product, dim.usd) == {"1y": 0.369, "3y": 0.5655}


def test_refresh_writes_a_new_snapshot(client: Any, tmp_path: Path) -> None:
    base = json.loads(latest_snapshot().read_text())
    missing = rf.Query("vpc.nat.hour", "AmazonEC2", {"productFamily": "NAT Gateway"}, "NatGateway-Hours")
    with Stubber(client) as stubber:
        stub_lambda(stubber)
        stubber.add_response(
            "get_products",
            fixture("ec2-t4g-small"),
            params("AmazonEC2", {**EC2_T4G.filters, "regionCode": "us-east-1"}),
        )
        stubber.add_response(
            "get_products",
            {"FormatVersion": "aws_v1", "PriceList": []},
            params("AmazonEC2", {"productFamily": "NAT Gateway", "regionCode": "us-east-1"}),
        )
        new, outcome = rf.refresh(client, base, ["us-east-1"], TODAY, [LAMBDA_ARM, EC2_T4G, missing])
        stubber.assert_no_pending_responses()

    assert outcome.updated == ["lambda.duration.arm64@us-east-1", "ec2.ondemand.t4g.small@us-east-1"]
    assert outcome.missing == ["vpc.nat.hour@us-east-1"]
    arm = new["figures"]["lambda.duration.arm64"]["regions"]["us-east-1"]
    assert arm["source"] == "aws-price-list" and arm["as_of"] == TODAY
    assert arm["tiers"][-1] == {"begin": 18.75e9, "end": None, "usd": 0.0000106667}
    assert new["figures"]["ec2.ondemand.t4g.small"]["regions"]["us-east-1"]["usd"] == 0.0168
    # figures the API did not return keep their old value and source
    assert new["figures"]["vpc.nat.hour"] == base["figures"]["vpc.nat.hour"]
    assert new["discounts"]["ec2.reserved_1y.t4g.small"]["fraction"] == 0.369
    assert base["snapshot_date"] != new["snapshot_date"] == TODAY

    path = rf.output_path(tmp_path, TODAY)
    path.write_text(json.dumps(new))
    assert rf.output_path(tmp_path, TODAY).name == f"snapshot-{TODAY}-2.json"  # never overwrites
    # the model prefers the refreshed per-type Reserved discount: 730 h × $0.0168 × (1 − 0.369)
    result = estimate(
        {**ISSUE_PROFILE, "ec2": {**ISSUE_PROFILE["ec2"], "pricing": "reserved-1y"}}, prices=path
    )
    (line,) = [i for i in result["runtimes"]["ec2"]["items"] if i["name"].startswith("EC2 t4g.small")]
    assert line["usd"] == pytest.approx(730 * 0.0168 * 0.631)
    assert PriceBook.load("us-east-1", path).snapshot_date == TODAY


def test_price_without_usd_is_an_error(client: Any) -> None:
    with Stubber(client) as stubber:
        stubber.add_response(
            "get_products", fixture("lambda-no-usd"), params("AWSLambda", {"regionCode": "us-east-1"})
        )
        (product,) = rf.paginate_products(client, "AWSLambda", {"regionCode": "us-east-1"})
    with pytest.raises(rf.RefreshError, match="no USD price"):
        rf.dimensions(product)


def test_default_queries_cover_every_instance_type() -> None:
    snapshot = json.loads(latest_snapshot().read_text())
    figures = {q.figure for q in rf.default_queries(snapshot["instance_types"])}
    assert {f"ec2.ondemand.{t}" for t in snapshot["instance_types"]} <= figures
    assert figures <= set(snapshot["figures"])  # every query updates a figure the model reads


def test_refresh_without_credentials_writes_nothing(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-m", "compare.cost", "refresh", "--out-dir", str(tmp_path)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2 and "credentials" in proc.stderr
    assert proc.stdout == "" and not list(tmp_path.glob("snapshot-*.json"))
