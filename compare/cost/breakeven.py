"""Break-even: monthly cost against monthly orders for each runtime, pricing option and mode.

Lambda's cost is piecewise linear in volume; the server runtimes are flat until the sized count
steps up. Crossovers are bracketed on a log grid, then solved with scipy's brentq on the cost
difference; a root that lands on a step (an instance or task added) is reported as such.

Each curve is a runtime's cost with its mode's DynamoDB and transfer lines: those are the same for
every runtime in one mode (so they move no crossover between runtimes) but not between the modes
(polling reads the table at every poll). Every option of the profile's own mode is drawn; of the
other mode, the options the profile configures.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
from scipy.optimize import brentq  # type: ignore[import-untyped]

from compare.cost import ec2, fargate, lambda_, shared_costs
from compare.cost.items import total
from compare.cost.prices import PriceBook
from compare.cost.profile import Ec2Config, FargateConfig, Profile

CostFn = Callable[[float], float]
FARGATE_OPTIONS = ("on-demand", "spot", "savings-plan-1y", "savings-plan-3y")
EC2_OPTIONS = ("on-demand", "savings-plan-1y", "savings-plan-3y", "reserved-1y", "reserved-3y", "spot")


def curve_key(runtime: str, option: str, mode: str) -> str:
    return f"{runtime} {option} {mode}"


def configured_keys(profile: Profile) -> dict[str, str]:
    """The curve keys of the options the profile actually configures, in its mode."""
    far = profile.fargate
    return {
        "lambda": curve_key("lambda", profile.lambda_.api, profile.mode),
        "fargate": curve_key("fargate", "spot" if far.spot else far.pricing, profile.mode),
        "ec2": curve_key("ec2", profile.ec2.pricing, profile.mode),
    }


def mode_headline(pairs: list[dict[str, Any]], by_mode: dict[str, dict[str, str]]) -> list[str]:
    """Where one runtime's configured option costs the same in both modes, if anywhere."""
    out: list[str] = []
    if len(by_mode) < 2:
        return out
    first, second = list(by_mode.values())[:2]
    for runtime in first:
        keys = {first[runtime], second[runtime]}
        for pair in pairs:
            if {pair["a"], pair["b"]} != keys:
                continue
            x = pair["crossovers"][0]
            other = pair["b"] if x["cheaper_below"] == pair["a"] else pair["a"]
            out.append(
                f"{x['cheaper_below']} is cheaper than {other} below ≈ {x['monthly_orders']:,.0f} "
                "orders/month (with each mode's DynamoDB and transfer; modeled)"
            )
    return out


def headline(pairs: list[dict[str, Any]], keys: dict[str, str]) -> list[str]:
    """One sentence per pair of configured options: where the first crossover is."""
    wanted = {
        frozenset((keys[a], keys[b]))
        for a, b in (("lambda", "fargate"), ("lambda", "ec2"), ("fargate", "ec2"))
    }
    out = []
    for pair in pairs:
        if frozenset((pair["a"], pair["b"])) not in wanted:
            continue
        x = pair["crossovers"][0]
        other = pair["b"] if x["cheaper_below"] == pair["a"] else pair["a"]
        out.append(
            f"{x['cheaper_below']} is cheaper than {other} below ≈ {x['monthly_orders']:,.0f} orders/month "
            f"(≈ {x['monthly_requests'] / 1e6:.3g} M requests as the pages send them, "
            f"≈ ${x['usd']:,.2f}/month with DynamoDB and transfer; modeled)"
        )
    seen = {frozenset((p["a"], p["b"])) for p in pairs}
    for missing in wanted - seen:
        a, b = sorted(missing)
        out.append(f"{a} and {b} do not cross between the grid's ends (modeled)")
    return out


@dataclass(frozen=True)
class Option:
    key: str
    runtime: str
    cost: CostFn


def options(profile: Profile, book: PriceBook, configured_only: bool = False) -> list[Option]:
    """Every runtime × pricing option the chart shows in the profile's mode (or only the configured
    ones), each a function of monthly orders: the runtime's cost with the mode's shared lines."""
    cache: dict[float, tuple[Profile, float]] = {}

    def at(orders: float) -> tuple[Profile, float]:
        if orders not in cache:
            there = profile.with_orders(orders)
            cache[orders] = (there, total(shared_costs.items(there, book)))
        return cache[orders]

    def lambda_cost(api: str, orders: float) -> float:
        there, shared = at(orders)
        return lambda_.estimate(there, book, api=api).monthly_usd + shared

    def fargate_cost(cfg: FargateConfig, orders: float) -> float:
        there, shared = at(orders)
        return fargate.estimate(there, book, cfg).monthly_usd + shared

    def ec2_cost(cfg: Ec2Config, orders: float) -> float:
        there, shared = at(orders)
        return ec2.estimate(there, book, cfg).monthly_usd + shared

    mode = profile.mode
    far = profile.fargate
    apis = ["rest", "http"] + ([profile.lambda_.api] if profile.lambda_.api not in ("rest", "http") else [])
    fargate_opts: tuple[str, ...] = FARGATE_OPTIONS
    ec2_opts: tuple[str, ...] = EC2_OPTIONS
    if configured_only:
        apis, fargate_opts = [profile.lambda_.api], ("spot" if far.spot else far.pricing,)
        ec2_opts = (profile.ec2.pricing,)
    out: list[Option] = []
    for api in apis:
        out.append(Option(curve_key("lambda", api, mode), "lambda", partial(lambda_cost, api)))
    for opt in fargate_opts:
        variant = fargate.variant(far, opt)
        out.append(Option(curve_key("fargate", opt, mode), "fargate", partial(fargate_cost, variant)))
    for opt in ec2_opts:
        variant_ec2 = ec2.variant(profile.ec2, opt)
        out.append(Option(curve_key("ec2", opt, mode), "ec2", partial(ec2_cost, variant_ec2)))
    return out


def sized_profile(profile: Profile) -> Profile:
    """Counts given in the profile become minimums, so servers scale up with volume on the curves."""
    far = replace(
        profile.fargate, count=None, min_count=max(profile.fargate.min_count, profile.fargate.count or 1)
    )
    e = replace(profile.ec2, count=None, min_count=max(profile.ec2.min_count, profile.ec2.count or 1))
    return replace(profile, fargate=far, ec2=e)


def crossovers(
    a: CostFn, b: CostFn, grid: np.ndarray, values_a: np.ndarray, values_b: np.ndarray
) -> list[dict[str, Any]]:
    diff = values_a - values_b
    found: list[dict[str, Any]] = []
    for i in range(len(grid) - 1):
        d0, d1 = diff[i], diff[i + 1]
        if d0 == 0 or np.sign(d0) == np.sign(d1):
            continue
        # Solve in log space: the grid is logarithmic and the step widths grow with volume.
        root = brentq(lambda x: a(10**x) - b(10**x), np.log10(grid[i]), np.log10(grid[i + 1]), xtol=1e-10)
        x = float(10**root)
        gap = abs(a(x) - b(x))
        found.append(
            {
                "monthly_orders": float(f"{x:.9g}"),
                "usd": round((a(x) + b(x)) / 2, 2),
                "kind": "crossing" if gap < 0.01 else "step (a task or instance is added here)",
                "cheaper_below": "a" if d0 < 0 else "b",
            }
        )
    return found


def solve(
    profile: Profile,
    book: PriceBook,
    lo: float = 10.0,
    hi: float = 1e8,
    points: int = 80,
    modes: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The curves of every option in the profile's mode and of the configured options in each other
    mode of ``modes``; the crossovers between runtimes within a mode, and between configured
    options across modes."""
    sized = sized_profile(profile)
    opts = options(sized, book)
    by_mode = {profile.mode: configured_keys(sized)}
    for mode in modes or (profile.mode,):
        if mode != profile.mode:
            other = sized.with_mode(mode)
            opts += options(other, book, configured_only=True)
            by_mode[mode] = configured_keys(other)
    configured = {key for keys in by_mode.values() for key in keys.values()}
    mode_of = {o.key: o.key.rsplit(" ", 1)[1] for o in opts}
    grid = np.logspace(np.log10(lo), np.log10(hi), points)
    values = {o.key: np.array([o.cost(float(x)) for x in grid]) for o in opts}
    pairs = []
    for oa, ob in itertools.combinations(opts, 2):
        same_mode = mode_of[oa.key] == mode_of[ob.key]
        if (same_mode and oa.runtime == ob.runtime) or (not same_mode and not {oa.key, ob.key} <= configured):
            continue
        xs = crossovers(oa.cost, ob.cost, grid, values[oa.key], values[ob.key])
        for x in xs:
            x["cheaper_below"] = oa.key if x["cheaper_below"] == "a" else ob.key
            at = profile.traffic_for(mode_of[oa.key], x["monthly_orders"])
            x["monthly_requests"] = float(f"{at.requests_per_month:.9g}")
        if xs:
            pairs.append({"a": oa.key, "b": ob.key, "crossovers": xs})
    return {
        "label": "modeled",
        "method": "cost difference bracketed on a log grid of orders, solved by scipy.optimize.brentq",
        "assumptions": [
            "server counts from the profile act as minimums; more are sized from CPU per request",
            "each curve includes its mode's DynamoDB and data-transfer lines: the same for every runtime "
            "in a mode (no crossover between runtimes moves), not between the modes",
            "Fargate Spot is priced on the task's own architecture (ARM64 on platform version 1.4.0+)",
        ],
        "orders_grid": [round(float(x), 2) for x in grid],
        "curves": {k: [round(float(v), 4) for v in vs] for k, vs in values.items()},
        "configured": by_mode[profile.mode],
        "configured_by_mode": by_mode,
        "headline": headline(pairs, by_mode[profile.mode]) + mode_headline(pairs, by_mode),
        "pairs": pairs,
    }
