"""Lambda memory sweep in the spirit of aws-lambda-power-tuning, but modeled, not measured.

Lambda gives a function CPU in proportion to its memory, one full vCPU at 1,769 MB. The sweep
assumes the CPU-bound share of the billed duration scales inversely with that CPU share and the
rest (waiting on DynamoDB, the network) does not change; above 1,769 MB a single-threaded Python
handler gains nothing, so the share is capped at one vCPU.
"""

from __future__ import annotations

import math
from typing import Any

from compare.cost import lambda_
from compare.cost.items import sig
from compare.cost.prices import PriceBook
from compare.cost.profile import Profile

FULL_VCPU_MB = 1769.0
ASSUMPTION = (
    "modeled: duration = measured × (f × share(measured MB)/share(MB) + (1 − f)), share(MB) = "
    "min(MB, 1769)/1769 (1 vCPU at 1,769 MB; a single-threaded handler gains nothing above), "
    "f = CPU-bound fraction of the duration; billed ms rounded up to 1 ms"
)


def cpu_share(memory_mb: float) -> float:
    return min(memory_mb, FULL_VCPU_MB) / FULL_VCPU_MB


def modeled_duration_ms(
    measured_ms: float, measured_mb: float, memory_mb: float, cpu_fraction: float
) -> float:
    scale = cpu_share(measured_mb) / cpu_share(memory_mb)
    return math.ceil(measured_ms * (cpu_fraction * scale + (1.0 - cpu_fraction)) - 1e-9)


def sweep(profile: Profile, book: PriceBook) -> dict[str, Any]:
    cfg = profile.lambda_
    rows = []
    for mb in cfg.sweep_memory_mb:
        ms = modeled_duration_ms(cfg.avg_billed_ms, cfg.memory_mb, mb, cfg.cpu_bound_fraction)
        cost = lambda_.estimate(profile, book, memory_mb=mb, avg_billed_ms=ms)
        monthly = cost.monthly_usd
        orders = profile.monthly_orders
        rows.append(
            {
                "memory_mb": mb,
                "avg_billed_ms": ms,
                "monthly_usd": round(monthly, 4),
                "usd_per_1000_orders": sig(monthly / orders * 1000) if orders else None,
                "label": "modeled",
            }
        )
    cheapest = min(rows, key=lambda r: (r["monthly_usd"], r["avg_billed_ms"]))
    fastest = min(rows, key=lambda r: (r["avg_billed_ms"], r["monthly_usd"]))
    return {
        "label": "modeled",
        "assumption": ASSUMPTION,
        "measured_at": {
            "memory_mb": cfg.memory_mb,
            "avg_billed_ms": cfg.avg_billed_ms,
            "provenance": profile.inputs.label("lambda.avg_billed_ms"),
        },
        "cpu_bound_fraction": cfg.cpu_bound_fraction,
        "cpu_bound_fraction_provenance": profile.inputs.label("lambda.cpu_bound_fraction"),
        "rows": rows,
        "cheapest_memory_mb": cheapest["memory_mb"],
        "fastest_memory_mb": fastest["memory_mb"],
    }
