"""The rich summary table printed at the end of a run."""

from __future__ import annotations

import re
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from compare.report.steady import first_minute_text, settling_text
from compare.report.verdict import Verdict, build_verdict
from compare.report.warnings import generator_state, mark
from compare.results import CostSection, RunResults


def _rich(markdown: str) -> str:
    """A warning's Markdown bold as rich's, everything else escaped."""
    return re.sub(r"\*\*(.+?)\*\*", r"[bold]\1[/bold]", escape(markdown))


def print_verdict(verdict: Verdict, console: Console) -> None:
    """The verdict first: the warnings in bold, the pick and why, what would change it."""
    for warning in verdict.warnings:
        console.print(f"[red]{_rich(warning)}[/red]")
    console.print(f"[bold]Verdict: {escape(verdict.pick)}[/bold] (latency {escape(verdict.basis)})")
    for claim in verdict.claims:
        console.print(f"  {escape(claim.plain())}")
    for title, claims in (("differences", verdict.differences), ("would change the answer", verdict.changes)):
        for claim in claims:
            console.print(f"  [dim]{title}:[/dim] {escape(claim.plain())}")
    if verdict.missing:
        console.print(f"  [yellow]not in this run: {escape('; '.join(verdict.missing))}")


def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def print_summary(results: RunResults, out: Path, console: Console | None = None) -> None:
    if console is None:
        console = Console()
        if not console.is_terminal:
            console = Console(width=170)
    print_verdict(build_verdict(results), console)
    rate = results.options.reference_rate
    table = Table(title=f"Café Compute latency — {results.source} — {rate:g} req/s café mix, open loop")
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
        "projected p99 ms",
        "cold start ms",
        "CPU ms/req",
        "billed ms",
    ):
        table.add_column(column, justify="left" if column == "runtime" else "right")
    for name, entry in results.runtimes.items():
        ref = entry.reference
        lat = ref.latency_ms if ref is not None else None
        start = entry.cold_start.start_ms if entry.cold_start is not None else None
        cpu = ref.server_cpu if ref is not None else None
        billed = entry.billed
        table.add_row(
            name,
            mark(results, name, "p50", _f(lat.p50 if lat else None, 2)),
            mark(results, name, "p90", _f(lat.p90 if lat else None, 2)),
            mark(results, name, "p99", _f(lat.p99 if lat else None, 2)),
            mark(results, name, "p99.9", _f(lat.p99_9 if lat else None, 2)),
            mark(results, name, "max", _f(lat.max if lat else None, 1)),
            _f(ref.throughput_rps if ref else None, 0),
            str(ref.errors) if ref else "–",
            mark(results, name, "sustainable", entry.capacity.sustainable_text() if entry.capacity else "–"),
            mark(results, name, "p99", _f(entry.projection.p99_ms, 1)) if entry.projection else "–",
            _f(start.median if start else None, 0),
            _f(cpu.ms_per_request.total if cpu else None, 2),
            _f(billed.billed_ms.median if billed else None, 0),
        )
    console.print(table)
    for name, entry in results.runtimes.items():
        if entry.settling is not None:
            colour = "green" if entry.settling.steady else "red"
            console.print(f"{name}: [{colour}]{escape(settling_text(entry.settling))}[/{colour}]")
        if entry.first_minute is not None:
            fm = entry.first_minute
            console.print(
                f"  first {fm.seconds:g} s after idle ({escape(fm.source)}): "
                f"{escape(first_minute_text(name, fm).split(': ', 1)[1])}"
            )
    for name, entry in results.runtimes.items():
        path = entry.deployed_path
        if path is not None:
            model = path.model
            agreement = (
                ""
                if model is None
                else f"; projection without front door p50/p99 {model.modeled_p50_ms:.1f}/"
                f"{model.modeled_p99_ms:.1f} ms, {'within' if model.agrees else 'NOT within'} 20 %"
            )
            console.print(
                f"{name}: deployed path ({escape(path.source)}): {path.capacity_text()} req/s, limited by "
                f"{path.limited_by or 'no step'}; p50/p99 {path.p50_ms:.1f}/{path.p99_ms:.1f} ms at "
                f"{path.reference_rps:g} req/s{agreement}"
            )
    for name, entry in results.runtimes.items():
        boot = entry.cold_start.launch_to_healthy if entry.cold_start is not None else None
        if boot is not None:
            console.print(f"{name}: {boot.summary_text()}")
    headroom = results.headroom
    kept, state = generator_state(results)
    if headroom is not None:
        console.print(
            f"generator headroom: {headroom.achieved_rps:.0f}/{headroom.rate_rps:g} req/s against a trivial "
            f"server, {100 * headroom.generator_cpu_share:.0f} % of one core — "
            + ("[red]" if kept is False else "[green]")
            + escape(state)
        )
    print_cost(results.cost, console)
    if results.mode == "local":
        console.print("[yellow]Local emulations measured on this machine — not AWS figures.")
    console.print(f"report: {out / 'report.html'}  ({results.wall_s:.0f} s)")


def print_cost(cost: CostSection | None, console: Console) -> None:
    """The modeled monthly bill per runtime for the cost profile, with this run's measurements."""
    if cost is None or not cost.available or cost.estimate is None:
        console.print(f"[yellow]cost: not modeled ({cost.note if cost else 'cost model unavailable'})")
        return
    estimate = cost.estimate
    workload = estimate["workload"]
    table = Table(
        title=f"Monthly cost — modeled from list prices ({estimate['region']}, "
        f"{workload['monthly_orders']:,.0f} orders / {workload['monthly_requests']:,.0f} requests a month, "
        f"profile {Path(cost.base_profile or '').name} with this run's measurements)"
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
    console.print(f"recommendation (modeled): {escape(estimate['recommendation']['reason'])}")
