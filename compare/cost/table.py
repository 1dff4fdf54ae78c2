"""Human-readable view of an estimate (`python -m compare.cost PROFILE --table`), with rich."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

NAMES = {"lambda": "Lambda", "fargate": "Fargate", "ec2": "EC2"}


def _money(x: float) -> str:
    return f"${x:,.2f}" if abs(x) >= 0.01 or x == 0 else f"${x:.6f}"


def render(result: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    snap = result["prices"]["snapshot"]
    wl = result["workload"]
    console.print(
        f"[bold]Café Compute cost model[/bold] — {result['region']}, {wl['monthly_orders']:,.0f} orders "
        f"({wl['monthly_requests']:,.0f} requests, the pages by {result.get('mode', 'polling')})/month, "
        f"peak {wl['peak_rps']:.3g} req/s — "
        f"all figures modeled from {snap}"
    )
    for runtime, r in result["runtimes"].items():
        table = Table(title=f"{NAMES[runtime]} ({r['option']})", title_justify="left")
        for col in ("line", "quantity", "unit", "unit USD", "USD", "quantity from"):
            table.add_column(col, justify="right" if col in ("quantity", "unit USD", "USD") else "left")
        for item in r["items"]:
            table.add_row(
                item["name"],
                f"{item['quantity']:,.6g}",
                item["unit"],
                f"{item['unit_usd']:.10g}",
                _money(item["usd"]),
                item["quantity_basis"],
            )
        table.add_row(
            "[bold]monthly[/bold]",
            "",
            "",
            "",
            f"[bold]{_money(r['monthly_usd'])}[/bold]",
            f"{_money(r['usd_per_1000_orders'])} per 1,000 orders",
        )
        console.print(table)
        for w in r["warnings"]:
            console.print(f"  [yellow]warning:[/yellow] {w}")
    console.print(
        f"Shared (DynamoDB, data transfer), shown once: {_money(result['shared']['monthly_usd'])}/month"
    )
    for line in result.get("breakeven", {}).get("headline", []):
        console.print(f"• {line}")
    console.print(f"[bold]Recommendation:[/bold] {result['recommendation']['reason']}")
    for w in result["warnings"]:
        if not w.startswith(tuple(result["runtimes"])):
            console.print(f"[dim]{w}[/dim]")
