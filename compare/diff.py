"""`python -m compare diff REPORT_A REPORT_B`: what changed between two runs.

Reads two stored runs (a report directory or its results.json) and shows, side by side, the
verdict, every figure both runs have, the machine, the git revision, the versions and the settings.
A figure whose two values lie within the run-to-run spread recorded for this machine
(compare/spread.toml, shown in docs/benchmarks.md) is marked as noise: only the rest is a change a
code or configuration edit can claim.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from compare.report.verdict import build_verdict, name_of
from compare.results import ResultsError, RunResults, read_results, to_json

SPREAD_FILE = Path(__file__).with_name("spread.toml")


@dataclass(frozen=True)
class Spread:
    factor: float
    basis: str


def load_spread(path: Path = SPREAD_FILE) -> dict[str, Spread]:
    """The run-to-run spread per figure: the largest ratio between two runs of the same code."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {name: Spread(float(v["factor"]), str(v["basis"])) for name, v in data.items()}


def figures(results: RunResults) -> dict[tuple[str, str], float]:
    """Every figure of a run a diff compares, keyed by (runtime, figure) as named in spread.toml."""
    out: dict[tuple[str, str], float] = {}

    def put(runtime: str, figure: str, value: float | None) -> None:
        if value is not None:
            out[(runtime, figure)] = float(value)

    for name, entry in results.runtimes.items():
        ref = entry.reference
        if ref is not None:
            lat = ref.latency_ms
            for figure, value in (
                ("p50_ms", lat.p50),
                ("p90_ms", lat.p90),
                ("p99_ms", lat.p99),
                ("p99_9_ms", lat.p99_9),
                ("max_ms", lat.max),
                ("throughput_rps", ref.throughput_rps),
            ):
                put(name, figure, value)
            if ref.server_cpu is not None:
                put(name, "cpu_ms_per_request", ref.server_cpu.ms_per_request.total)
        if entry.capacity is not None:
            put(name, "sustainable_rps", entry.capacity.sustainable_rps)
        start = entry.cold_start.start_ms if entry.cold_start is not None else None
        put(name, "cold_start_ms", start.median if start is not None and start.n else None)
        billed = entry.billed
        put(name, "billed_ms", billed.billed_ms.median if billed is not None and billed.invocations else None)
        if entry.projection is not None:
            put(name, "projected_p50_ms", entry.projection.p50_ms)
            put(name, "projected_p99_ms", entry.projection.p99_ms)
        if entry.day is not None:
            put(name, "day_p99_ms", entry.day.p99_ms)
    cost = results.cost
    if cost is not None and cost.estimate is not None:
        for name, runtime in cost.estimate.get("runtimes", {}).items():
            put(name, "monthly_usd", runtime.get("monthly_usd"))
    return out


@dataclass(frozen=True)
class Change:
    runtime: str
    figure: str
    a: float | None
    b: float | None
    verdict: str  # "same", "noise", "changed", "only in A", "only in B"
    note: str


def judge(a: float | None, b: float | None, spread: Spread | None) -> tuple[str, str]:
    """Whether a figure moved by more than the run-to-run spread, and by how much."""
    if a is None or b is None:
        return ("only in B", "") if a is None else ("only in A", "")
    if a == b:
        return "same", ""
    low, high = sorted((abs(a), abs(b)))
    ratio = high / low if low else float("inf")
    change = f"{100 * (b - a) / abs(a):+.0f} %" if a else "from 0"
    if spread is None:
        return "changed", f"{change}, no spread recorded"
    if ratio <= spread.factor:
        return "noise", f"{change}, within ×{spread.factor:g}"
    return "changed", f"{change}, beyond ×{spread.factor:g}"


def changes(a: RunResults, b: RunResults, spread: dict[str, Spread]) -> list[Change]:
    fa, fb = figures(a), figures(b)
    keys = list(fa) + [k for k in fb if k not in fa]
    out = []
    for runtime, figure in keys:
        va, vb = fa.get((runtime, figure)), fb.get((runtime, figure))
        verdict, note = judge(va, vb, spread.get(figure))
        out.append(Change(runtime, figure, va, vb, verdict, note))
    return out


def _differing(a: Mapping[str, object], b: Mapping[str, object]) -> Iterator[tuple[str, object, object]]:
    for key in list(a) + [k for k in b if k not in a]:
        if a.get(key) != b.get(key):
            yield key, a.get(key, "–"), b.get(key, "–")


def context_rows(a: RunResults, b: RunResults) -> list[tuple[str, str, object, object]]:
    """Machine, git, versions and settings that differ, as (what, name, A, B)."""
    pa, pb = a.provenance, b.provenance
    rows: list[tuple[str, str, object, object]] = []
    machine_a = {
        "platform": pa.platform,
        "CPUs": f"{pa.cpu_count} × {pa.cpu_model}",
        "memory GB": pa.memory_gb,
    }
    machine_b = {
        "platform": pb.platform,
        "CPUs": f"{pb.cpu_count} × {pb.cpu_model}",
        "memory GB": pb.memory_gb,
    }
    rows += [("machine", k, va, vb) for k, va, vb in _differing(machine_a, machine_b)]
    rows += [
        ("git", "revision", va, vb)
        for _, va, vb in _differing({"r": pa.git_revision}, {"r": pb.git_revision})
    ]
    rows += [("version", k, va, vb) for k, va, vb in _differing(dict(pa.versions), dict(pb.versions))]
    sa, sb = to_json(a.options), to_json(b.options)
    rows += [("setting", k, va, vb) for k, va, vb in _differing(sa, sb) if k not in ("out_dir",)]
    return rows


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"


def print_diff(a: RunResults, b: RunResults, names: tuple[str, str], console: Console) -> None:
    spread = load_spread()
    va, vb = build_verdict(a), build_verdict(b)
    for letter, name, run in (("A", names[0], a), ("B", names[1], b)):
        p = run.provenance
        console.print(
            f"[bold]{letter}[/bold] {escape(name)}: {p.date_utc}, git {p.git_revision}, {escape(run.source)}"
        )
    pa, pb = (name_of(v.runtime) if v.runtime else "none" for v in (va, vb))
    console.print(
        f"verdict: {pa} (latency {va.basis}) → {pb} (latency {vb.basis})"
        + ("" if va.runtime == vb.runtime else "  [bold red]the pick changed[/bold red]")
    )
    if a.source != b.source:
        console.print(
            f"[yellow]the two runs come from different places: {escape(a.source)} / {escape(b.source)}"
        )
    context = Table(title="What differs around the figures (machine, git, versions, settings)")
    for column in ("what", "name", "A", "B"):
        context.add_column(column)
    for what, name, ca, cb in context_rows(a, b):
        context.add_row(what, escape(name), escape(str(ca)), escape(str(cb)))
    if context.row_count:
        console.print(context)
    else:
        console.print("same machine, git revision, versions and settings")
    table = Table(title="Figures: B against A (noise = within the run-to-run spread in compare/spread.toml)")
    for column in ("runtime", "figure", "A", "B", "change", "verdict"):
        table.add_column(column, justify="right" if column in ("A", "B", "change") else "left")
    found = changes(a, b, spread)
    for c in found:
        style = {"changed": "bold", "noise": "dim", "same": "dim"}.get(c.verdict, "yellow")
        table.add_row(c.runtime, c.figure, _num(c.a), _num(c.b), c.note, f"[{style}]{c.verdict}[/{style}]")
    console.print(table)
    moved = sum(c.verdict == "changed" for c in found)
    console.print(f"{moved} of {len(found)} figures moved beyond the run-to-run spread.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m compare diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("a", type=Path, help="the earlier run: reports/<timestamp>/ or its results.json")
    parser.add_argument("b", type=Path, help="the later run")
    args = parser.parse_args(argv)
    try:
        a, b = read_results(args.a), read_results(args.b)
    except (OSError, ValueError, ResultsError) as exc:
        print(f"compare diff: {exc}", file=sys.stderr)
        return 2
    console = Console()
    if not console.is_terminal:
        console = Console(width=150)
    print_diff(a, b, (str(args.a), str(args.b)), console)
    return 0
