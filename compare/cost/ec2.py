"""EC2 pricing: instance-hours under a pricing option, EBS gp3, public IPv4, the optional ALB, and
the burstable CPU-credit check (a t4g.small earns 20 % of its 2 vCPUs; above that, surplus
credits are billed in unlimited mode or the instance is throttled in standard mode)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from compare.cost import push_servers
from compare.cost.fargate import discounted
from compare.cost.items import LineItem, RuntimeCost, line
from compare.cost.network import alb_lines, lcu, log_lines
from compare.cost.observability import waf_lines
from compare.cost.prices import Discount, PriceBook
from compare.cost.profile import Ec2Config, Profile
from compare.cost.sizing import Plan, hourly_rps, plan

PRICING_DISCOUNT = {
    "savings-plan-1y": "ec2.savings_plan_1y",
    "savings-plan-3y": "ec2.savings_plan_3y",
    "reserved-1y": "ec2.reserved_1y",
    "reserved-3y": "ec2.reserved_3y",
    "spot": "ec2.spot",
}


def pricing_discount(book: PriceBook, cfg: Ec2Config) -> Discount | None:
    """The option's discount: a refreshed per-type Reserved figure if the snapshot has one."""
    if cfg.pricing not in PRICING_DISCOUNT:
        return None
    key = PRICING_DISCOUNT[cfg.pricing]
    specific = f"{key}.{cfg.instance_type}"
    if specific in book.data.get("discounts", {}):
        return book.discount(specific)
    return book.discount(key)


@dataclass(frozen=True)
class CreditCheck:
    """CPU credits over an open day, in vCPU-hours (1 credit = 1 vCPU-minute at 100 %)."""

    used_per_day: float
    earned_per_day: float
    surplus_per_month: float
    peak_hour_pct_per_instance: float
    baseline_pct: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "vcpu_hours_used_per_open_day": round(self.used_per_day, 4),
            "vcpu_hours_earned_per_open_day": round(self.earned_per_day, 4),
            "surplus_vcpu_hours_per_month": round(self.surplus_per_month, 4),
            "peak_hour_cpu_pct_per_instance": round(self.peak_hour_pct_per_instance, 2),
            "baseline_pct": self.baseline_pct,
            "label": "modeled",
        }


def credit_check(profile: Profile, cfg: Ec2Config, p: Plan, vcpu: float, baseline_pct: float) -> CreditCheck:
    """Daily balance: credits earned while running vs CPU used (requests + idle).

    A day's surplus can be banked (the balance holds 24 h of earnings), so the peak hours may run
    above baseline; what the day uses beyond what it earns is the surplus.
    """
    baseline = baseline_pct / 100.0
    idle = cfg.idle_cpu_pct / 100.0
    rps = hourly_rps(profile)
    used = earned = 0.0
    for h in range(24):
        running = p.counts_open_day[h]
        used += rps[h] * 3600 * cfg.cpu_ms_per_request / 1000.0 / 3600 + running * vcpu * idle
        earned += running * vcpu * baseline
    peak_h = max(range(24), key=lambda h: rps[h])
    per_instance = rps[peak_h] * profile.schedule.burst_factor * cfg.cpu_ms_per_request / 1000.0
    peak_pct = 100 * (per_instance / max(p.counts_open_day[peak_h], 1) / vcpu + idle)
    surplus = max(0.0, used - earned) * profile.open_days_per_month
    return CreditCheck(used, earned, surplus, peak_pct, baseline_pct)


def estimate(profile: Profile, book: PriceBook, cfg: Ec2Config | None = None) -> RuntimeCost:
    cfg = cfg or profile.ec2
    inp = profile.inputs
    spec = book.instance_type(cfg.instance_type)
    vcpu = float(spec["vcpu"])
    p = plan(profile, cfg, vcpu, f"{cfg.instance_type} instances")
    workers = int(vcpu)  # gunicorn runs one worker per vCPU (ec2/gunicorn.conf.py), a live hub each
    held = None
    if profile.traffic.live is not None:
        memory_gb = float(spec["memory_gib"])
        cfg, change = push_servers.fit(profile, cfg, workers, memory_gb, p.peak_count)
        if change != "none":
            p = plan(profile, cfg, vcpu, f"{cfg.instance_type} instances")
        held = push_servers.memory_check(profile, p.peak_count, workers, memory_gb * 1024.0, change)
    qty_basis = f"modeled from {inp.label('ec2.cpu_ms_per_request')} CPU/request" if p.sized else "profile"
    od = book.price(f"ec2.ondemand.{cfg.instance_type}")
    discount = pricing_discount(book, cfg)
    usd, basis = discounted(od, discount)
    hours = p.unit_hours
    items: list[LineItem] = [
        LineItem(
            f"EC2 {cfg.instance_type} Linux ({cfg.pricing})", hours, "instance-hour", usd, basis, qty_basis
        )
    ]
    ebs = book.price("ebs.gp3.gb_month")
    items.append(
        LineItem(
            f"EBS gp3 root volume {cfg.ebs_gb:g} GB per instance",
            cfg.ebs_gb * hours / profile.hours_per_month,
            ebs.unit,
            ebs.usd,
            ebs.label(),
            qty_basis,
        )
    )
    if cfg.public_ip:
        ip = book.price("vpc.public_ipv4.hour")
        items.append(LineItem("EC2 public IPv4", hours, ip.unit, ip.usd, ip.label(), qty_basis))
    notes = list(p.notes)
    warnings = list(p.warnings)
    sizing: dict[str, Any] = {
        "instance_type": cfg.instance_type,
        "vcpu": vcpu,
        "instances_peak": p.peak_count,
        "instance_hours": round(hours, 3),
        "peak_cpu_utilisation": round(p.peak_utilisation, 4),
        "sized_from_cpu": p.sized,
        "scaling": cfg.scaling,
        "label": "modeled",
    }
    if spec.get("burstable"):
        check = credit_check(profile, cfg, p, vcpu, float(spec["baseline_pct"]))
        sizing["cpu_credits"] = check.to_dict()
        family = cfg.instance_type.split(".")[0]
        if check.surplus_per_month > 0:
            if cfg.unlimited:
                price = book.price(f"ec2.cpu_credit_surplus.{family}")
                items.append(
                    line(f"{family} unlimited-mode surplus CPU credits", check.surplus_per_month, price)
                )
                warnings.append(
                    f"{cfg.instance_type} uses more CPU than its {check.baseline_pct:g} % baseline earns: "
                    f"{check.surplus_per_month:.3g} surplus vCPU-hours a month are billed"
                )
            else:
                warnings.append(
                    f"{cfg.instance_type} in standard mode runs out of CPU credits: throttled to "
                    f"{check.baseline_pct:g} % per vCPU; choose a larger or non-burstable type"
                )
        else:
            notes.append(
                f"{cfg.instance_type}: CPU stays within the {check.baseline_pct:g} % credit baseline "
                f"over a day (peak hour ≈ {check.peak_hour_pct_per_instance:.2g} % per instance, "
                "banked credits cover it)"
            )
    if cfg.alb:
        items += alb_lines(profile, book, cfg.alb_azs)
        if cfg.waf:
            items += waf_lines(profile, book)
    if held is not None:
        push = push_servers.quantities(profile, p, workers)
        items += push_servers.push_lines(push, book, "instance")
        sizing["push"] = {**push.to_dict(), "memory": held.to_dict()}
        notes.append(
            f"push: server-sent events from each instance's {workers} uvicorn workers (a hub each); "
            f"{held.sentence('instance')}"
        )
        if not held.fits:
            warnings.append(f"push: {held.sentence('instance')}: choose a larger type")
    if cfg.alb:
        sizing["alb"] = lcu(profile).to_dict()
    items += log_lines(profile, book, cfg.log_bytes_per_request, "EC2 via CloudWatch agent")
    notes.append(
        "the EC2 template attaches CloudWatchAgentServerPolicy but its user data installs no agent: "
        "logs stay in journald and EMF lines become no metrics; the ingestion line prices the agent "
        "path, and no log storage or custom metrics are added"
    )
    if cfg.pricing == "spot":
        warnings.append("Spot instances can be reclaimed with 2 minutes' notice: run at least one on-demand")
    if discount is not None and cfg.pricing != "spot" and cfg.scaling != "fixed":
        notes.append("commitments (RI/Savings Plan) are paid 24×7: with scale-in, cover only the baseline")
    return RuntimeCost(
        runtime="ec2",
        option=f"{cfg.instance_type}, {cfg.pricing}, {cfg.scaling}",
        items=items,
        notes=notes,
        warnings=warnings,
        sizing=sizing,
    )


def variant(cfg: Ec2Config, option: str) -> Ec2Config:
    return replace(cfg, pricing=option)
