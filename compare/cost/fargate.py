"""Fargate pricing: vCPU-hours and GB-hours of the sized tasks, Spot or Savings Plan, and the
network around them (ALB, public IPv4 per task or a NAT gateway)."""

from __future__ import annotations

from dataclasses import replace

from compare.cost import push_servers
from compare.cost.items import LineItem, RuntimeCost
from compare.cost.network import alb_lines, lcu, log_lines, nat_lines
from compare.cost.observability import ecr_line, emf_metric_lines, log_storage_line, waf_lines
from compare.cost.prices import Discount, Price, PriceBook
from compare.cost.profile import FargateConfig, Profile
from compare.cost.sizing import plan

PRICING_DISCOUNT = {
    "savings-plan-1y": "fargate.savings_plan_1y",
    "savings-plan-3y": "fargate.savings_plan_3y",
}


def discounted(price: Price, discount: Discount | None) -> tuple[float, str]:
    """Unit price after a (typical, modeled) discount, and the basis text that says so."""
    if discount is None:
        return price.usd, price.label()
    usd = price.usd * (1.0 - discount.fraction)
    return usd, f"{price.label()} × (1 − {discount.fraction:g}) [{discount.basis}; modeled]"


def option_name(cfg: FargateConfig) -> str:
    return "spot" if cfg.spot else cfg.pricing


def estimate(profile: Profile, book: PriceBook, cfg: FargateConfig | None = None) -> RuntimeCost:
    cfg = cfg or profile.fargate
    inp = profile.inputs
    discount = None
    if cfg.spot:
        discount = book.discount("fargate.spot")
    elif cfg.pricing in PRICING_DISCOUNT:
        discount = book.discount(PRICING_DISCOUNT[cfg.pricing])
    p = plan(profile, cfg, cfg.vcpu, "Fargate tasks")
    held = None
    if profile.traffic.live is not None:
        # The streams the tasks hold at the busiest hour: more memory, or more tasks, if need be.
        cfg, change = push_servers.fit(profile, cfg, cfg.workers, cfg.memory_gb, p.peak_count)
        if change != "none":
            p = plan(profile, cfg, cfg.vcpu, "Fargate tasks")
        held = push_servers.memory_check(profile, p.peak_count, cfg.workers, cfg.memory_gb * 1024.0, change)
    task_hours = p.unit_hours
    qty_basis = (
        f"modeled from {inp.label('fargate.cpu_ms_per_request')} CPU/request" if p.sized else "profile"
    )

    vcpu_price = book.price(f"fargate.vcpu_hour.{cfg.arch}")
    gb_price = book.price(f"fargate.gb_hour.{cfg.arch}")
    tag = option_name(cfg)
    items: list[LineItem] = []
    usd, basis = discounted(vcpu_price, discount)
    items.append(
        LineItem(
            f"Fargate vCPU {cfg.arch} ({cfg.vcpu:g} vCPU × {task_hours:.6g} task-h, {tag})",
            task_hours * cfg.vcpu,
            vcpu_price.unit,
            usd,
            basis,
            qty_basis,
        )
    )
    usd, basis = discounted(gb_price, discount)
    items.append(
        LineItem(
            f"Fargate memory {cfg.arch} ({cfg.memory_gb:g} GB × {task_hours:.6g} task-h, {tag})",
            task_hours * cfg.memory_gb,
            gb_price.unit,
            usd,
            basis,
            qty_basis,
        )
    )
    notes = list(p.notes)
    warnings = list(p.warnings)
    if cfg.network == "public":
        ip = book.price("vpc.public_ipv4.hour")
        items.append(LineItem("Fargate task public IPv4", task_hours, ip.unit, ip.usd, ip.label(), qty_basis))
    else:
        items += nat_lines(profile, book)
        notes.append("tasks in private subnets reach DynamoDB through one NAT gateway (no VPC endpoint)")
    if cfg.alb:
        items += alb_lines(profile, book, cfg.alb_azs)
    else:
        notes.append(
            "no ALB: clients reach the task's public IP directly (no stable address, no TLS offload)"
        )
    items += log_lines(profile, book, cfg.log_bytes_per_request, "Fargate")
    items.append(
        log_storage_line(profile, book, cfg.log_bytes_per_request, cfg.log_retention_days, "Fargate")
    )
    if cfg.emf_metrics:
        items += emf_metric_lines(profile, book)
    if cfg.image_gb > 0:
        items.append(ecr_line(book, cfg.image_gb, cfg.images_kept))
    if cfg.waf and cfg.alb:
        items += waf_lines(profile, book)
    push = None
    if held is not None:
        push = push_servers.quantities(profile, p, cfg.workers)
        items += push_servers.push_lines(push, book, "task")
        notes.append(
            f"push: server-sent events from each task through the ALB, {cfg.workers} hub(s) per task "
            f"reading the feed; {held.sentence('task')}"
        )
        if not held.fits:
            warnings.append(f"push: {held.sentence('task')}")
    if cfg.spot:
        warnings.append("Fargate Spot tasks can be stopped with 2 minutes' notice: keep an on-demand base")
    if cfg.pricing != "on-demand" and cfg.scaling != "fixed":
        notes.append(
            "a Savings Plan commitment is paid every hour: with scale-in, commit only to the baseline"
        )
    return RuntimeCost(
        runtime="fargate",
        option=f"{cfg.arch} {cfg.vcpu:g} vCPU/{cfg.memory_gb:g} GB, {tag}, {cfg.scaling}",
        items=items,
        notes=notes,
        warnings=warnings,
        sizing={
            "tasks_peak": p.peak_count,
            "task_hours": round(task_hours, 3),
            "peak_cpu_utilisation": round(p.peak_utilisation, 4),
            "sized_from_cpu": p.sized,
            "scaling": cfg.scaling,
            "memory_gb": cfg.memory_gb,
            **({"alb": lcu(profile).to_dict()} if cfg.alb else {}),
            **({"push": {**push.to_dict(), "memory": held.to_dict()}} if push and held else {}),
            "label": "modeled",
        },
    )


def variant(cfg: FargateConfig, option: str) -> FargateConfig:
    """The same task under another pricing option (Fargate Spot runs ARM64 tasks too, on platform
    version 1.4.0 or later: ECS API reference, CapacityProviderStrategyItem)."""
    if option == "spot":
        return replace(cfg, spot=True, pricing="on-demand")
    return replace(cfg, spot=False, pricing=option)
