"""The break-even chart: monthly cost against monthly orders, log-scale x, one line per option,
coloured by runtime as every other chart of the comparison, solid for push and dashed for polling,
the configured options bold, and stamped with the same footer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from compare.chartstyle import finish, plain_log_axis, plain_number, provenance_footer, runtime_color

#: One line style per mode: the reader tells push from polling at a glance.
MODE_STYLE = {"push": "-", "polling": "--"}


def default_footer(result: dict[str, Any]) -> str:
    """Where the curves come from when no comparison run supplies its own footer."""
    prices = result.get("prices", {})
    return provenance_footer(
        "modeled",
        f"price snapshot {prices.get('snapshot', '?')} ({prices.get('snapshot_date', '?')}), "
        f"{result.get('region', '')}",
        "make cost",
    )


def breakeven_chart(result: dict[str, Any], path: str | Path, footer: str | None = None) -> Path:
    """Write the chart of `estimate(...)["breakeven"]` to a PNG; returns the path."""
    be = result.get("breakeven")
    if not be:
        raise ValueError("result has no 'breakeven' section: call estimate(..., with_breakeven=True)")
    path = Path(path)
    fig, ax = plt.subplots(figsize=(10, 6))
    x = be["orders_grid"]
    by_mode = be.get("configured_by_mode") or {"": be.get("configured", {})}
    configured = {key for keys in by_mode.values() for key in keys.values()}
    for key, ys in be["curves"].items():
        runtime, mode = key.split()[0], key.rsplit(" ", 1)[-1]
        mine = key in configured
        ax.plot(
            x,
            ys,
            linestyle=MODE_STYLE.get(mode, ":"),
            color=runtime_color(runtime),
            label=f"{key} (configured)" if mine else key,
            linewidth=2.4 if mine else 0.9,
            alpha=1.0 if mine else 0.45,
        )
    for pair in be["pairs"]:
        first = pair["crossovers"][0]
        ax.plot([first["monthly_orders"]], [first["usd"]], "k.", markersize=5)
    current = result.get("workload", {}).get("monthly_orders")
    if current:
        ax.axvline(current, color="grey", linewidth=0.8, label="this profile")
    ax.set_xscale("log")
    plain_log_axis(ax.xaxis, subs=(1.0,))  # seven decades: 1-2-5 labels would overlap
    ax.set_yscale("symlog", linthresh=1.0)  # linear below $1: free-tier runs can cost $0
    ax.yaxis.set_major_formatter(lambda v, _pos: f"${plain_number(v)}")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("orders per month (log scale)")
    ax.set_ylabel("USD per month (runtime + its mode's DynamoDB and transfer, modeled)")
    snap = result.get("prices", {}).get("snapshot", "")
    ax.set_title(
        f"Café Compute break-even, {result.get('region', '')}: solid push, dashed polling "
        f"(modeled from {snap})"
    )
    ax.grid(True, which="major", linewidth=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return finish(fig, footer or default_footer(result), path)
