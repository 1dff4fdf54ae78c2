"""`refresh`: pull current list prices from the AWS Price List API into a NEW price snapshot.

Uses the boto3 `pricing` client (`get_products`, TERM_MATCH filters, aws_v1 format) through its
paginator. Each PriceList item is a JSON string holding one product and its terms; the OnDemand
term's priceDimensions carry pricePerUnit.USD and, for tiered prices, beginRange/endRange. EC2
Reserved terms (standard, no upfront) become per-type discount factors. Figures the API did not
return keep their old value and source, and are listed under `refresh.missing`.

Needs real AWS credentials (any identity allowed `pricing:GetProducts`); the Price List endpoint
is in us-east-1 whatever region is priced.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compare.cost.prices import SNAPSHOT_DIR, latest_snapshot

log = logging.getLogger(__name__)

PRICING_ENDPOINT_REGION = "us-east-1"
SOURCE_KEY = "aws-price-list"
EC2_FILTERS = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
}


class RefreshError(RuntimeError):
    """The Price List API answered with something this parser cannot read."""


@dataclass(frozen=True)
class Dimension:
    begin: float
    end: float | None
    usd: float
    unit: str
    description: str


@dataclass(frozen=True)
class Query:
    """One snapshot figure and how to find it: service, TERM_MATCH filters, usagetype suffix."""

    figure: str
    service: str
    filters: dict[str, str]
    usagetype_suffix: str
    kind: str = "unit"  # "unit": first non-zero price; "tiers": every dimension as a tier
    reserved: bool = False  # EC2: also read Reserved terms into discount factors


@dataclass
class Outcome:
    updated: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def default_queries(instance_types: Iterable[str]) -> list[Query]:
    q = [
        Query("lambda.requests", "AWSLambda", {"group": "AWS-Lambda-Requests"}, "Request"),
        Query(
            "lambda.duration.x86_64",
            "AWSLambda",
            {"group": "AWS-Lambda-Duration"},
            "Lambda-GB-Second",
            "tiers",
        ),
        Query(
            "lambda.duration.arm64",
            "AWSLambda",
            {"group": "AWS-Lambda-Duration-ARM"},
            "Lambda-GB-Second-ARM",
            "tiers",
        ),
        Query(
            "apigw.rest.requests",
            "AmazonApiGateway",
            {"productFamily": "API Calls"},
            "ApiGatewayRequest",
            "tiers",
        ),
        Query(
            "apigw.http.requests",
            "AmazonApiGateway",
            {"productFamily": "API Calls"},
            "ApiGatewayHttpRequest",
            "tiers",
        ),
        Query("fargate.vcpu_hour.x86_64", "AmazonECS", {}, "-Fargate-vCPU-Hours:perCPU"),
        Query("fargate.gb_hour.x86_64", "AmazonECS", {}, "-Fargate-GB-Hours"),
        Query("fargate.vcpu_hour.arm64", "AmazonECS", {}, "-Fargate-ARM-vCPU-Hours:perCPU"),
        Query("fargate.gb_hour.arm64", "AmazonECS", {}, "-Fargate-ARM-GB-Hours"),
        Query("elb.alb.hour", "AWSELB", {"productFamily": "Load Balancer-Application"}, "LoadBalancerUsage"),
        Query("elb.alb.lcu_hour", "AWSELB", {"productFamily": "Load Balancer-Application"}, "LCUUsage"),
        Query("vpc.public_ipv4.hour", "AmazonVPC", {}, "PublicIPv4:InUseAddress"),
        Query("vpc.nat.hour", "AmazonEC2", {"productFamily": "NAT Gateway"}, "NatGateway-Hours"),
        Query("vpc.nat.gb", "AmazonEC2", {"productFamily": "NAT Gateway"}, "NatGateway-Bytes"),
        Query(
            "ebs.gp3.gb_month",
            "AmazonEC2",
            {"productFamily": "Storage", "volumeApiName": "gp3"},
            "EBS:VolumeUsage.gp3",
        ),
        Query(
            "ec2.cpu_credit_surplus.t3",
            "AmazonEC2",
            {"productFamily": "CPU Credits", "operatingSystem": "Linux"},
            "CPUCredits:t3",
        ),
        Query(
            "ec2.cpu_credit_surplus.t4g",
            "AmazonEC2",
            {"productFamily": "CPU Credits", "operatingSystem": "Linux"},
            "CPUCredits:t4g",
        ),
        Query("dynamodb.ondemand.write", "AmazonDynamoDB", {}, "WriteRequestUnits"),
        Query("dynamodb.ondemand.read", "AmazonDynamoDB", {}, "ReadRequestUnits"),
        Query("dynamodb.storage", "AmazonDynamoDB", {}, "TimedStorage-ByteHrs"),
        Query("cloudwatch.logs.ingest", "AmazonCloudWatch", {}, "DataProcessing-Bytes"),
    ]
    for itype in instance_types:
        q.append(
            Query(
                f"ec2.ondemand.{itype}",
                "AmazonEC2",
                {"instanceType": itype, **EC2_FILTERS},
                f"BoxUsage:{itype}",
                reserved=True,
            )
        )
    return q


def paginate_products(client: Any, service: str, filters: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every product (decoded from its aws_v1 JSON string) matching the TERM_MATCH filters."""
    paginator = client.get_paginator("get_products")
    pages = paginator.paginate(
        ServiceCode=service,
        Filters=[{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in filters.items()],
        FormatVersion="aws_v1",
        PaginationConfig={"PageSize": 100},
    )
    for page in pages:
        for item in page.get("PriceList", []):
            try:
                yield json.loads(item) if isinstance(item, str) else item
            except json.JSONDecodeError as exc:
                raise RefreshError(f"{service}: a PriceList item is not JSON ({exc})") from exc


def _range(value: str | None) -> float | None:
    if value is None or value == "Inf":
        return None
    return float(value)


def dimensions(product: dict[str, Any], term_type: str = "OnDemand") -> list[Dimension]:
    """priceDimensions of every term of one type, ordered by beginRange."""
    out: list[Dimension] = []
    for term in product.get("terms", {}).get(term_type, {}).values():
        for dim in term.get("priceDimensions", {}).values():
            try:
                usd = float(dim["pricePerUnit"]["USD"])
            except (KeyError, ValueError) as exc:
                raise RefreshError(f"{product.get('product', {}).get('sku')}: no USD price in {dim}") from exc
            out.append(
                Dimension(
                    _range(dim.get("beginRange")) or 0.0,
                    _range(dim.get("endRange")),
                    usd,
                    dim.get("unit", ""),
                    dim.get("description", ""),
                )
            )
    return sorted(out, key=lambda d: d.begin)


def reserved_discounts(product: dict[str, Any], on_demand_hourly: float) -> dict[str, float]:
    """Standard RI, no upfront, 1 and 3 years: effective hourly vs on-demand → discount fraction."""
    out: dict[str, float] = {}
    for term in product.get("terms", {}).get("Reserved", {}).values():
        attrs = term.get("termAttributes", {})
        if attrs.get("OfferingClass") != "standard" or attrs.get("PurchaseOption") != "No Upfront":
            continue
        years = {"1yr": 1, "3yr": 3}.get(attrs.get("LeaseContractLength", ""))
        if years is None:
            continue
        hourly = upfront = 0.0
        for dim in term.get("priceDimensions", {}).values():
            usd = float(dim["pricePerUnit"]["USD"])
            if dim.get("unit") == "Hrs":
                hourly += usd
            else:
                upfront += usd
        effective = hourly + upfront / (years * 8760)
        if on_demand_hourly > 0:
            out[f"{years}y"] = round(1 - effective / on_demand_hourly, 4)
    return out


def pick(products: list[dict[str, Any]], suffix: str) -> dict[str, Any] | None:
    matches = [
        p
        for p in products
        if p.get("product", {}).get("attributes", {}).get("usagetype", "").endswith(suffix)
    ]
    # Lambda@Edge and friends share groups; the exact-suffix product with the shortest usagetype wins.
    matches.sort(key=lambda p: len(p["product"]["attributes"]["usagetype"]))
    return matches[0] if matches else None


def refresh(
    client: Any,
    snapshot: dict[str, Any],
    regions: list[str],
    today: str,
    queries: list[Query] | None = None,
) -> tuple[dict[str, Any], Outcome]:
    """A new snapshot dict: the old one with every figure the API returned replaced."""
    new = copy.deepcopy(snapshot)
    new["snapshot_date"] = today
    new["sources"][SOURCE_KEY] = f"AWS Price List API get_products (aws_v1), fetched {today}"
    outcome = Outcome()
    if queries is None:
        queries = default_queries(new.get("instance_types", {}))
    cache: dict[tuple[str, tuple[tuple[str, str], ...]], list[dict[str, Any]]] = {}
    for region in regions:
        for q in queries:
            filters = {**q.filters, "regionCode": region}
            key = (q.service, tuple(sorted(filters.items())))
            if key not in cache:
                cache[key] = list(paginate_products(client, q.service, filters))
            product = pick(cache[key], q.usagetype_suffix)
            dims = dimensions(product) if product else []
            ident = f"{q.figure}@{region}"
            if not dims:
                outcome.missing.append(ident)
                log.warning("no price for %s", ident)
                continue
            entry: dict[str, Any] = {
                "source": SOURCE_KEY,
                "as_of": today,
                "basis": f"list price, {product['product'].get('sku') if product else ''} "
                f"{product.get('publicationDate', '') if product else ''}".strip(),
            }
            if q.kind == "tiers":
                entry["tiers"] = [{"begin": d.begin, "end": d.end, "usd": d.usd} for d in dims]
            else:
                entry["usd"] = next((d.usd for d in dims if d.usd > 0), dims[0].usd)
            new["figures"].setdefault(q.figure, {"unit": dims[0].unit, "regions": {}})["regions"][region] = (
                entry
            )
            outcome.updated.append(ident)
            if q.reserved and product and region == "us-east-1":
                itype = q.figure.removeprefix("ec2.ondemand.")
                for years, frac in reserved_discounts(product, entry["usd"]).items():
                    new["discounts"][f"ec2.reserved_{years}.{itype}"] = {
                        "fraction": frac,
                        "source": SOURCE_KEY,
                        "basis": f"Standard RI {years}, no upfront, us-east-1, vs on-demand ({today})",
                    }
    new["refresh"] = {"date": today, "updated": outcome.updated, "missing": outcome.missing}
    return new, outcome


def output_path(directory: Path, today: str) -> Path:
    """A new file, never an existing one: snapshot-DATE.json, then -2, -3… on the same day."""
    path = directory / f"snapshot-{today}.json"
    n = 2
    while path.exists():
        path = directory / f"snapshot-{today}-{n}.json"
        n += 1
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m compare.cost refresh",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--from", dest="base", type=Path, help="snapshot to start from (default: newest)")
    parser.add_argument("--out-dir", type=Path, default=SNAPSHOT_DIR)
    parser.add_argument(
        "--region", action="append", help="region to refresh (default: those in the snapshot)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    base = args.base or latest_snapshot()
    snapshot = json.loads(base.read_text(encoding="utf-8"))
    session = boto3.Session()
    if session.get_credentials() is None:
        log.error("refresh needs AWS credentials (AWS_PROFILE, env keys or an instance role): none found")
        return 2
    client = session.client("pricing", region_name=PRICING_ENDPOINT_REGION)
    today = dt.date.today().isoformat()
    try:
        new, outcome = refresh(client, snapshot, args.region or list(snapshot["regions"]), today)
    except (BotoCoreError, ClientError, RefreshError) as exc:
        log.error("refresh failed, no snapshot written: %s", exc)
        return 2
    path = output_path(args.out_dir, today)
    path.write_text(json.dumps(new, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log.info("wrote %s: %d figures updated, %d missing", path, len(outcome.updated), len(outcome.missing))
    print(json.dumps({"snapshot": str(path), "updated": len(outcome.updated), "missing": outcome.missing}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
