"""Break-even: monthly cost against monthly orders for each runtime and pricing option.

Lambda's cost is piecewise linear in volume; the server runtimes are flat until the sized count
steps up. Crossovers are bracketed on a log grid, then solved with scipy's brentq on the cost
difference; a root that lands on a step (an instance or task added) is reported as such.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
from scipy.optimize import brentq  # type: ignore[import-untyped]

from compare.cost import ec2, fargate, lambda_
from compare.cost.prices import PriceBook
from compare.cost.profile import Ec2Config, FargateConfig, Profile

CostFn = Callable[[float], float]
FARGATE_OPTIONS = ("on-demand", "spot", "savings-plan-1y", "savings-plan-3y")
EC2_OPTIONS = ("on-demand", "savings-plan-1y", "savings-plan-3y", "reserved-1y", "reserved-3y", "spot")


def fargate_key(cfg: FargateConfig, opt: str) -> str:
    return f"fargate {opt}"


def configured_keys(profile: Profile) -> dict[str, str]:
    """The curve keys of the options the profile actually configures."""
    far = profile.fargate
    return {
        "lambda": f"lambda {profile.lambda_.api}",
        "fargate": fargate_key(far, "spot") if far.spot else f"fargate {far.pricing}",
        "ec2": f"ec2 {profile.ec2.pricing}",
    }


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
            f"≈ ${x['usd']:,.2f}/month; modeled)"
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


def options(profile: Profile, book: PriceBook) -> list[Option]:
    """Every runtime × pricing option the chart shows, each a function of monthly orders."""

    def at(orders: float) -> Profile:
        return profile.with_orders(orders)

    def lambda_cost(api: str, orders: float) -> float:
        return lambda_.estimate(at(orders), book, api=api).monthly_usd

    def fargate_cost(cfg: FargateConfig, orders: float) -> float:
        return fargate.estimate(at(orders), book, cfg).monthly_usd

    def ec2_cost(cfg: Ec2Config, orders: float) -> float:
        return ec2.estimate(at(orders), book, cfg).monthly_usd

    out: list[Option] = []
    apis = ["rest", "http"] + ([profile.lambda_.api] if profile.lambda_.api not in ("rest", "http") else [])
    for api in apis:
        out.append(Option(f"lambda {api}", "lambda", partial(lambda_cost, api)))
    far = profile.fargate
    for opt in FARGATE_OPTIONS:
        out.append(Option(fargate_key(far, opt), "fargate", partial(fargate_cost, fargate.variant(far, opt))))
    for opt in EC2_OPTIONS:
        out.append(Option(f"ec2 {opt}", "ec2", partial(ec2_cost, ec2.variant(profile.ec2, opt))))
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
    profile: Profile, book: PriceBook, lo: float = 10.0, hi: float = 1e8, points: int = 80
) -> dict[str, Any]:
    sized = sized_profile(profile)
    opts = options(sized, book)
    grid = np.logspace(np.log10(lo), np.log10(hi), points)
    values = {o.key: np.array([o.cost(float(x)) for x in grid]) for o in opts}
    pairs = []
    for oa, ob in itertools.combinations(opts, 2):
        if oa.runtime == ob.runtime:
            continue
        xs = crossovers(oa.cost, ob.cost, grid, values[oa.key], values[ob.key])
        for x in xs:
            x["cheaper_below"] = oa.key if x["cheaper_below"] == "a" else ob.key
            x["monthly_requests"] = float(f"{profile.with_orders(x['monthly_orders']).monthly_requests:.9g}")
        if xs:
            pairs.append({"a": oa.key, "b": ob.key, "crossovers": xs})
    return {
        "label": "modeled",
        "method": "cost difference bracketed on a log grid of orders, solved by scipy.optimize.brentq",
        "assumptions": [
            "server counts from the profile act as minimums; more are sized from CPU per request",
            "cost excludes the shared DynamoDB/data-transfer lines, which are the same for every runtime",
            "Fargate Spot is priced on the task's own architecture (ARM64 on platform version 1.4.0+)",
        ],
        "orders_grid": [round(float(x), 2) for x in grid],
        "curves": {k: [round(float(v), 4) for v in vs] for k, vs in values.items()},
        "configured": configured_keys(sized),
        "headline": headline(pairs, configured_keys(sized)),
        "pairs": pairs,
    }
