"""`estimate(profile) -> dict`: the whole cost model for one profile as one JSON-ready document."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from compare.cost import breakeven, ec2, fargate, lambda_, shared_costs, sweep
from compare.cost.items import RuntimeCost
from compare.cost.prices import PriceBook
from compare.cost.profile import Profile, parse
from compare.cost.recommend import recommend
from compare.cost.sizing import hourly_rps, peak_rps

log = logging.getLogger(__name__)

SCHEMA = "cafe-compute/cost@1"
LABELS = {
    "modeled": "computed by this model from the price snapshot and the inputs",
    "profile": "given in the profile (a what-if or an architect's figure)",
    "command line": "given on the comparison's command line (e.g. --slo-p99-ms), replacing the profile's",
    "measured here": "measured on this machine by the latency tool: not an AWS figure",
    "measured on AWS": "measured on a real AWS deployment",
    "default (assumed)": "not given: the model's stated default",
}


def per_open_day(monthly_usd: float, profile: Profile) -> float:
    """A month's cost spread over the days the café is open (what `make day` reports as one day)."""
    days = profile.open_days_per_month
    return round(monthly_usd / days, 6) if days else 0.0


def reference_rows(profile: Profile, book: PriceBook) -> list[dict[str, Any]]:
    """Lightsail, Elastic Beanstalk and App Runner, for scale: not part of the comparison."""
    rows: list[dict[str, Any]] = []
    for size in (5, 7, 12):
        p = book.price(f"lightsail.bundle.{size}")
        rows.append(
            {
                "name": f"Lightsail ${size} bundle",
                "monthly_usd": p.usd,
                "price_basis": p.label(),
                "label": "modeled",
                "description": book.data["figures"][p.figure]["description"],
            }
        )
    eb = book.price("elasticbeanstalk.service")
    rows.append(
        {
            "name": "Elastic Beanstalk",
            "monthly_usd": eb.usd,
            "price_basis": eb.label(),
            "label": "modeled",
            "description": "no charge of its own: the EC2 (and ALB) lines above apply",
        }
    )
    vcpu, mem = book.price("apprunner.vcpu_hour"), book.price("apprunner.gb_hour")
    active = profile.open_days_per_month * profile.schedule.open_hours
    usd = 0.25 * vcpu.usd * active + 0.5 * mem.usd * profile.hours_per_month
    rows.append(
        {
            "name": "App Runner 0.25 vCPU / 0.5 GB, active while open, provisioned 24×7",
            "monthly_usd": round(usd, 4),
            "price_basis": f"{vcpu.label()} | {mem.label()}",
            "label": "modeled",
            "description": book.data["figures"]["apprunner.vcpu_hour"]["description"],
        }
    )
    return rows


def shapes(profile: Profile) -> dict[str, dict[str, Any]]:
    """What each priced shape is: how it gives the barista page its HTTPS, and how many zones."""
    out: dict[str, dict[str, Any]] = {
        "lambda": {
            "https": "API Gateway (HTTPS included)",
            "serves_every_page": True,
            "zones": "regional (Lambda and API Gateway span the region's zones)",
        }
    }
    for name, cfg in (("fargate", profile.fargate), ("ec2", profile.ec2)):
        units = cfg.count if cfg.count is not None else cfg.min_count
        out[name] = {
            "https": "ALB with an ACM certificate (a domain name is needed, not priced)"
            if cfg.alb
            else "none: staff calls over plain HTTP (the lab's AllowStaffOverHttp what-if)",
            "serves_every_page": cfg.alb or cfg.staff_over_http,
            "zones": "two-AZ (a unit in each of two zones)"
            if units >= 2
            else "single-AZ (one unit: a zone outage stops it)",
            "load_balancer_zones": cfg.alb_azs if cfg.alb else 0,
            "label": "modeled from the profile",
        }
    return out


def zone_options(profile: Profile, book: PriceBook) -> dict[str, dict[str, float]]:
    """Fargate and EC2 as one unit in one zone and as two units in two zones (at least)."""
    from dataclasses import replace

    out: dict[str, dict[str, float]] = {"fargate": {}, "ec2": {}}
    for label, units in (("single-AZ", 1), ("two-AZ", 2)):
        far = replace(profile.fargate, count=None, min_count=units)
        out["fargate"][label] = round(fargate.estimate(profile, book, far).monthly_usd, 4)
        ec2_cfg = replace(profile.ec2, count=None, min_count=units)
        out["ec2"][label] = round(ec2.estimate(profile, book, ec2_cfg).monthly_usd, 4)
    return out


def option_matrix(profile: Profile, book: PriceBook) -> dict[str, dict[str, float]]:
    """Each runtime under each pricing option at this profile's volume (same sizing)."""
    out: dict[str, dict[str, float]] = {"lambda": {}, "fargate": {}, "ec2": {}}
    for api in ("rest", "http", "url"):
        out["lambda"][api] = round(lambda_.estimate(profile, book, api=api).monthly_usd, 4)
    for opt in ("on-demand", "spot", "savings-plan-1y", "savings-plan-3y"):
        out["fargate"][opt] = round(
            fargate.estimate(profile, book, fargate.variant(profile.fargate, opt)).monthly_usd, 4
        )
    for opt in ("on-demand", "savings-plan-1y", "savings-plan-3y", "reserved-1y", "reserved-3y", "spot"):
        out["ec2"][opt] = round(ec2.estimate(profile, book, ec2.variant(profile.ec2, opt)).monthly_usd, 4)
    return out


def estimate(
    raw_profile: dict[str, Any], prices: Path | None = None, with_breakeven: bool = True
) -> dict[str, Any]:
    """Price a profile; the comparison tool's report calls this (and breakeven_chart on the result)."""
    profile = parse(raw_profile)
    book = PriceBook.load(profile.region, prices)
    log.info(
        "pricing %s requests/month in %s with %s",
        f"{profile.monthly_requests:.0f}",
        profile.region,
        book.snapshot_name,
    )
    costs: dict[str, RuntimeCost] = {
        "lambda": lambda_.estimate(profile, book),
        "fargate": fargate.estimate(profile, book),
        "ec2": ec2.estimate(profile, book),
    }
    shared = shared_costs.summary(profile, book)
    orders = profile.monthly_orders
    runtimes = {name: c.to_dict(orders, shared["monthly_usd"]) for name, c in costs.items()}
    for name, c in costs.items():
        runtimes[name]["usd_per_open_day"] = per_open_day(c.monthly_usd, profile)
    p99_labels = {r: profile.inputs.label(f"p99_ms.{r}") for r in profile.p99_ms}
    rec = recommend(
        {n: c.monthly_usd for n, c in costs.items()}, profile.p99_ms, profile.slo_p99_ms, p99_labels
    )
    result: dict[str, Any] = {
        "schema": SCHEMA,
        "label": "modeled",
        "region": profile.region,
        "prices": {
            "snapshot": book.snapshot_name,
            "snapshot_date": book.snapshot_date,
            "sources": book.data.get("sources", {}),
            "note": "list prices from an offline snapshot: re-check with `make refresh-prices` before paying",
        },
        "traffic": profile.traffic.to_dict(),
        "workload": {
            "monthly_requests": round(profile.monthly_requests, 1),
            "monthly_orders": round(orders, 1),
            "requests_per_order": round(profile.requests_per_order, 2),
            "hours_per_month": profile.hours_per_month,
            "open_days_per_month": round(profile.open_days_per_month, 3),
            "open_hours": [profile.schedule.open_from, profile.schedule.open_until],
            "peak_hours": [list(p) for p in profile.schedule.peaks],
            "peak_rps": round(peak_rps(profile), 4),
            "hourly_rps_open_day": [round(r, 4) for r in hourly_rps(profile)],
            "target_utilisation": profile.target_utilisation,
            "label": "modeled from profile",
        },
        "runtimes": runtimes,
        "shared": shared,
        "options": {"label": "modeled", "monthly_usd": option_matrix(profile, book)},
        "shapes": {
            "label": "modeled",
            "runtimes": shapes(profile),
            "zones_monthly_usd": zone_options(profile, book),
            "note": "the verdict compares the shapes the profile configures (min_count units); "
            "zones_monthly_usd prices one unit in one zone and two in two zones",
        },
        "reference_rows": reference_rows(profile, book),
        "recommendation": rec,
        "memory_sweep": sweep.sweep(profile, book),
        "provenance": {"labels": LABELS, "inputs": profile.provenance()},
    }
    if with_breakeven:
        result["breakeven"] = breakeven.solve(profile, book)
    warnings = list(book.warnings)
    for c in costs.values():
        warnings += [f"{c.runtime}: {w}" for w in c.warnings]
    result["warnings"] = warnings
    return result
