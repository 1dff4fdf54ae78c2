"""The rich summary table printed at the end of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from compare.capacity import sustainable_text
from compare.ec2boot import summary_text


def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def print_summary(results: dict[str, Any], out: Path, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=170)
    rate = results["options"]["reference_rate"]
    table = Table(title=f"Café Compute latency — {results['source']} — {rate:g} req/s café mix, open loop")
    for column in (
        "runtime",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "req/s",
        "errors",
        "sustainable req/s",
        "cold start ms",
        "CPU ms/req",
        "billed ms",
    ):
        table.add_column(column, justify="left" if column == "runtime" else "right")
    for name, entry in results["runtimes"].items():
        ref = entry.get("reference") or {}
        lat = ref.get("latency_ms") or {}
        cold = entry.get("cold_start") or {}
        cold_median = (cold.get("total_ms") or cold.get("healthy_ms") or {}).get("median")
        reports = ref.get("lambda_reports") or (entry.get("lambda_reports") or {}).get("summary") or {}
        table.add_row(
            name,
            _f(lat.get("p50"), 2),
            _f(lat.get("p90"), 2),
            _f(lat.get("p99"), 2),
            _f(lat.get("p99.9"), 2),
            _f(lat.get("max"), 1),
            _f(ref.get("throughput_rps"), 0),
            str(ref.get("errors", "–")),
            sustainable_text(entry.get("capacity")),
            _f(cold_median, 0),
            _f((ref.get("server_cpu") or {}).get("ms_per_request", {}).get("total"), 2),
            _f((reports.get("billed_ms") or {}).get("median"), 0),
        )
    console.print(table)
    for name, entry in results["runtimes"].items():
        boot = (entry.get("cold_start") or {}).get("launch_to_healthy")
        if boot:
            console.print(f"{name}: {summary_text(boot)}")
    headroom = results.get("headroom")
    if headroom:
        console.print(
            f"generator headroom: {headroom['achieved_rps']:.0f}/{headroom['rate_rps']:g} req/s "
            "against a trivial "
            f"server, {100 * headroom['generator_cpu_share']:.0f} % of one core — "
            + ("[green]kept up" if headroom["kept_up"] else "[red]did not keep up")
        )
    print_cost(results.get("cost") or {}, console)
    if results["mode"] == "local":
        console.print("[yellow]Local emulations measured on this machine — not AWS figures.")
    console.print(f"report: {out / 'report.html'}  ({results['wall_s']:.0f} s)")


def print_cost(cost: dict[str, Any], console: Console) -> None:
    """The modeled monthly bill per runtime for the cost profile, with this run's measurements."""
    estimate = cost.get("estimate")
    if not cost.get("available") or not estimate:
        console.print(f"[yellow]cost: not modeled ({cost.get('note', 'cost model unavailable')})")
        return
    workload = estimate["workload"]
    table = Table(
        title=f"Monthly cost — modeled from list prices ({estimate['region']}, "
        f"{workload['monthly_orders']:,.0f} orders / {workload['monthly_requests']:,.0f} requests a month, "
        f"profile {Path(cost['base_profile']).name} with this run's measurements)"
    )
    for column in ("runtime", "configuration", "USD/month", "USD per 1,000 orders (runtime only)"):
        table.add_column(column, justify="left" if column in ("runtime", "configuration") else "right")
    for name, runtime in estimate["runtimes"].items():
        table.add_row(
            name,
            runtime["option"],
            f"{runtime['monthly_usd']:,.2f}",
            f"{runtime['usd_per_1000_orders']:,.4f}",
        )
    console.print(table)
    console.print(f"recommendation (modeled): {estimate['recommendation']['reason']}")
