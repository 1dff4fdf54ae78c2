"""The break-even chart: monthly cost against monthly orders, log-scale x, one line per option."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers or CI

import matplotlib.pyplot as plt

STYLE = {"lambda": "-", "fargate": "--", "ec2": ":"}


def breakeven_chart(result: dict[str, Any], path: str | Path) -> Path:
    """Write the chart of `estimate(...)["breakeven"]` to a PNG; returns the path."""
    be = result.get("breakeven")
    if not be:
        raise ValueError("result has no 'breakeven' section: call estimate(..., with_breakeven=True)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(10, 6), dpi=110)
    try:
        x = be["orders_grid"]
        for key, ys in be["curves"].items():
            ax.plot(x, ys, STYLE.get(key.split()[0], "-"), label=key, linewidth=1.4)
        for pair in be["pairs"]:
            first = pair["crossovers"][0]
            ax.plot([first["monthly_orders"]], [first["usd"]], "k.", markersize=5)
        current = result.get("workload", {}).get("monthly_orders")
        if current:
            ax.axvline(current, color="grey", linewidth=0.8, label="this profile")
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=1.0)  # linear below $1: free-tier runs can cost $0
        ax.set_ylim(bottom=0)
        ax.set_xlabel("orders per month")
        ax.set_ylabel("USD per month (runtime only, modeled)")
        snap = result.get("prices", {}).get("snapshot", "")
        ax.set_title(f"Café Compute break-even, {result.get('region', '')} (modeled from {snap})")
        ax.grid(True, which="both", linewidth=0.3)
        ax.legend(fontsize=7, ncol=2)
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
