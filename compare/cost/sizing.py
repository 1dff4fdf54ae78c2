"""Traffic shape and capacity: how many tasks or instances a café needs, hour by hour.

Servers are sized for the busiest hour (a café peaks at 8–9 and 12–13) at a target CPU
utilisation, from the CPU-seconds one request costs: the notes' instance-type choice made explicit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from compare.cost.profile import Profile, ServerConfig


def screens_open(profile: Profile) -> list[float]:
    """The share of each hour 0..23 of an open day the screens are open: from opening time, for
    ``screen_hours`` (a fraction in the last one)."""
    screen_hours = profile.shape.screen_hours
    start = profile.schedule.open_from
    return [
        max(0.0, min(1.0, start + screen_hours - h)) if h >= start and screen_hours else 0.0
        for h in range(24)
    ]


def hourly_rps(profile: Profile) -> list[float]:
    """Mean requests per second in each hour 0..23 of an open day (modeled from the profile).

    What follows the orders (customers, the barista's actions) has the schedule's peaks; what the
    screens send (their polling, or their health checks while they follow a stream) is flat
    through the hours they are open, from opening time.
    """
    days = profile.open_days_per_month
    daily = profile.monthly_requests / days if days else 0.0
    screens = min(profile.traffic.screens_per_open_day, daily)
    screen_hours = profile.shape.screen_hours
    flat = [screens / screen_hours * share if screen_hours else 0.0 for share in screens_open(profile)]
    return [
        ((daily - screens) * share + flat_h) / 3600.0
        for share, flat_h in zip(profile.schedule.hourly_share(), flat, strict=True)
    ]


def hourly_orders(profile: Profile) -> list[float]:
    """Orders placed in each hour 0..23 of an open day: they follow the schedule's peaks."""
    days = profile.open_days_per_month
    daily = profile.monthly_orders / days if days else 0.0
    return [daily * share for share in profile.schedule.hourly_share()]


def peak_rps(profile: Profile) -> float:
    return max(hourly_rps(profile)) * profile.schedule.burst_factor


def _held_parts(profile: Profile) -> tuple[list[float], list[float]]:
    """Streams held at once in each hour of an open day: the customers' and the screens'."""
    live = profile.traffic.live
    if live is None:
        return [0.0] * 24, [0.0] * 24
    customer = live.pages["customer"]
    days, minutes_open = profile.open_days_per_month, profile.shape.screen_hours * 60.0
    screen_streams = sum(p.held_minutes for name, p in live.pages.items() if name != "customer")
    screens = screen_streams / days / minutes_open if days and minutes_open else 0.0
    per_order = customer.held_minutes / profile.monthly_orders if profile.monthly_orders else 0.0
    return [orders * per_order / 60.0 for orders in hourly_orders(profile)], [
        screens * share for share in screens_open(profile)
    ]


def hourly_held(profile: Profile) -> list[float]:
    """Live streams held at once in each hour 0..23 of an open day (none while the pages poll):
    the screens while they are open, and the customers following an order (Little's law: orders
    an hour × the minutes one stream stays open ÷ 60)."""
    customers, screens = _held_parts(profile)
    return [c + s for c, s in zip(customers, screens, strict=True)]


def peak_held(profile: Profile) -> float:
    """The most live streams held at once: the busiest hour with the customers' burst."""
    customers, screens = _held_parts(profile)
    burst = profile.schedule.burst_factor
    return max(c * burst + s for c, s in zip(customers, screens, strict=True))


def units_for(
    rps: float, cpu_ms: float, unit_vcpu: float, utilisation: float, capacity_rps: float | None = None
) -> int:
    """Units needed so that CPU demand stays at or below the target utilisation and, where a unit's
    deployed-path capacity is known, no unit is asked for more than it serves within the SLO."""
    demand_vcpu = rps * cpu_ms / 1000.0
    units = math.ceil(demand_vcpu / (unit_vcpu * utilisation) - 1e-9)
    if capacity_rps:
        units = max(units, math.ceil(rps / capacity_rps - 1e-9))
    return units


@dataclass
class Plan:
    """Units running per hour of an open day, and the unit-hours they add up to in a month."""

    counts_open_day: list[int]
    unit_hours: float
    peak_count: int
    peak_utilisation: float
    sized: bool
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def plan(profile: Profile, cfg: ServerConfig, unit_vcpu: float, what: str) -> Plan:
    """Count units per hour under the configured scaling mode.

    fixed: the same count 24×7 for hours_per_month; scheduled: that count while open, the
    outside-hours minimum otherwise; target-tracking: each hour's need (idealised: no scaling lag).
    """
    util = profile.target_utilisation
    burst = profile.schedule.burst_factor
    rps = hourly_rps(profile)
    sched = profile.schedule
    need = [
        max(
            cfg.min_count,
            units_for(r * burst, cfg.cpu_ms_per_request, unit_vcpu, util, cfg.capacity_rps_per_unit),
        )
        if sched.is_open(h)
        else cfg.min_outside_hours
        for h, r in enumerate(rps)
    ]
    peak_need = max(need[h] for h in range(24) if sched.is_open(h))
    out: list[str] = []
    warn: list[str] = []
    count = cfg.count if cfg.count is not None else peak_need
    sized = cfg.count is None
    if sized:
        out.append(
            f"{what}: {peak_need} sized for the peak hour ({max(rps) * burst:.3g} req/s × "
            f"{cfg.cpu_ms_per_request:g} ms CPU at ≤ {util:.0%} of {unit_vcpu:g} vCPU each)"
        )
        if cfg.capacity_rps_per_unit:
            by_cpu = max(
                cfg.min_count,
                units_for(max(rps) * burst, cfg.cpu_ms_per_request, unit_vcpu, util),
            )
            bound = "sets the count" if peak_need > by_cpu else f"not binding (CPU alone needs {by_cpu})"
            out.append(
                f"{what}: at most {cfg.capacity_rps_per_unit:g} req/s each within the SLO on the "
                f"deployed path: {bound}"
            )
    open_hours_month = profile.open_days_per_month * sched.open_hours
    shut_hours_month = max(0.0, profile.hours_per_month - open_hours_month)

    if cfg.scaling == "fixed":
        counts = [count] * 24
        unit_hours = count * profile.hours_per_month
    elif cfg.scaling == "scheduled":
        counts = [count if sched.is_open(h) else cfg.min_outside_hours for h in range(24)]
        unit_hours = count * open_hours_month + cfg.min_outside_hours * shut_hours_month
        out.append(
            f"{what}: scheduled scale-in to {cfg.min_outside_hours} "
            f"outside {sched.open_from}–{sched.open_until} h"
        )
    else:
        counts = (
            need
            if cfg.count is None
            else [max(n, cfg.count) if sched.is_open(h) else n for h, n in enumerate(need)]
        )
        unit_hours = profile.open_days_per_month * sum(counts[h] for h in range(24) if sched.is_open(h))
        unit_hours += cfg.min_outside_hours * shut_hours_month
        out.append(f"{what}: target tracking, idealised (no scaling lag), min {cfg.min_count} while open")

    peak_hour = max(range(24), key=lambda h: rps[h])
    running = max(counts[peak_hour], 1)
    peak_util = rps[peak_hour] * burst * cfg.cpu_ms_per_request / 1000.0 / (running * unit_vcpu)
    if peak_util > util:
        warn.append(
            f"{what}: {running} at the peak hour run at {peak_util:.0%} CPU, above the {util:.0%} target "
            f"(needs {peak_need})"
        )
    return Plan(counts, unit_hours, max(counts), peak_util, sized, out, warn)
