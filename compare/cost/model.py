"""`estimate(profile) -> dict`: the whole cost model for one profile as one JSON-ready document."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from compare.cost import breakeven, ec2, fargate, lambda_, shared_costs, sweep
from compare.cost.items import RuntimeCost
from compare.cost.notice import Notice, notice
from compare.cost.prices import PriceBook
from compare.cost.profile import Profile, ProfileError, parse
from compare.cost.recommend import recommend_combination
from compare.cost.sizing import hourly_held, hourly_rps, peak_held, peak_rps
from compare.cost.traffic import MODES

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


def hubs_at_peak(cost: RuntimeCost) -> int:
    """Server processes (a live hub each) at the busiest hour, from the runtime's push sizing."""
    memory = cost.sizing.get("push", {}).get("memory", {})
    return int(memory.get("units_at_peak") or 1) * int(memory.get("processes_per_unit") or 1)


def price_mode(
    profile: Profile, book: PriceBook
) -> tuple[dict[str, RuntimeCost], dict[str, Any], dict[str, Notice]]:
    """Every runtime in the profile's mode: its cost, the costs shared alike, how late screens are."""
    costs: dict[str, RuntimeCost] = {
        "lambda": lambda_.estimate(profile, book),
        "fargate": fargate.estimate(profile, book),
        "ec2": ec2.estimate(profile, book),
    }
    notices = {name: notice(profile, name, hubs_at_peak(c)) for name, c in costs.items()}
    return costs, shared_costs.summary(profile, book), notices


def modes_priced(profile: Profile, book: PriceBook) -> dict[str, tuple[Profile, Any]]:
    """The profile in each mode the census can price (a census taken before push prices polling)."""
    out: dict[str, tuple[Profile, Any]] = {}
    for mode in MODES:
        try:
            in_mode = profile if mode == profile.mode else profile.with_mode(mode)
        except ProfileError as exc:
            log.warning("%s not priced: %s", mode, exc)
            continue
        out[mode] = (in_mode, price_mode(in_mode, book))
    return out


def mode_summary(priced: dict[str, tuple[Profile, Any]]) -> dict[str, Any]:
    """Each mode's runtimes: monthly cost with the mode's shared lines, and how late screens are."""
    out: dict[str, Any] = {"label": "modeled"}
    for mode, (in_mode, (costs, shared, notices)) in priced.items():
        out[mode] = {
            "requests_per_month": round(in_mode.monthly_requests, 1),
            "shared_monthly_usd": shared["monthly_usd"],
            "runtimes": {
                name: {
                    "monthly_usd": round(c.monthly_usd, 4),
                    "monthly_usd_with_shared": round(c.monthly_usd + shared["monthly_usd"], 4),
                    "notice_delay": notices[name].to_dict(),
                }
                for name, c in costs.items()
            },
        }
    return out


def combinations(priced: dict[str, tuple[Profile, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "runtime": name,
            "mode": mode,
            "monthly_usd": round(c.monthly_usd + shared["monthly_usd"], 4),
            "runtime_usd": round(c.monthly_usd, 4),
            "shared_usd": shared["monthly_usd"],
            "notice_p99_ms": round(notices[name].p99_ms, 1),
            "notice_screen": notices[name].screen,
            "keeps_up": notices[name].keeps_up,
        }
        for mode, (_, (costs, shared, notices)) in priced.items()
        for name, c in costs.items()
    ]


def estimate(
    raw_profile: dict[str, Any],
    prices: Path | None = None,
    with_breakeven: bool = True,
    mode: str | None = None,
) -> dict[str, Any]:
    """Price a profile (in ``mode``, else its own); the comparison tool's report calls this (and
    breakeven_chart on the result)."""
    profile = parse(raw_profile, mode)
    book = PriceBook.load(profile.region, prices)
    log.info(
        "pricing %s requests/month (%s) in %s with %s",
        f"{profile.monthly_requests:.0f}",
        profile.mode,
        profile.region,
        book.snapshot_name,
    )
    priced = modes_priced(profile, book)
    costs, shared, notices = priced[profile.mode][1]
    orders = profile.monthly_orders
    runtimes = {name: c.to_dict(orders, shared["monthly_usd"]) for name, c in costs.items()}
    for name, c in costs.items():
        runtimes[name]["usd_per_open_day"] = per_open_day(c.monthly_usd, profile)
        runtimes[name]["notice_delay"] = notices[name].to_dict()
    p99_labels = {r: profile.inputs.label(f"p99_ms.{r}") for r in profile.p99_ms}
    rec = recommend_combination(
        combinations(priced), profile.p99_ms, profile.slo_p99_ms, p99_labels, profile.notice_delay_target_ms
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
        "mode": profile.mode,
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
            "streams_held_hourly_open_day": [round(h, 3) for h in hourly_held(profile)],
            "peak_streams_held": round(peak_held(profile), 3),
            "target_utilisation": profile.target_utilisation,
            "label": "modeled from profile",
        },
        "runtimes": runtimes,
        "shared": shared,
        "modes": mode_summary(priced),
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
        result["breakeven"] = breakeven.solve(profile, book, modes=tuple(priced))
    warnings = list(book.warnings)
    if (waiting := profile.waiting_by_littles_law()) > profile.max_waiting:
        warnings.append(
            f"the café's orders would keep {waiting:,.0f} waiting (Little's law) but the app refuses"
            f" placements beyond store.max_waiting = {profile.max_waiting}: queue-sized reads "
            "and messages are priced at the cap, and the orders beyond it would be refused"
        )
    for c in costs.values():
        warnings += [f"{c.runtime}: {w}" for w in c.warnings]
    result["warnings"] = warnings
    return result
