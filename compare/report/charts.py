"""PNG charts (matplotlib, Agg backend), each stamped with where its numbers come from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from compare.results import ColdStarts, RunResults

PERCENTILES = ("p50", "p90", "p99", "p99.9", "max")
COLORS = {"lambda": "#ff9900", "fargate": "#1f77b4", "ec2": "#2ca02c"}


@dataclass(frozen=True)
class Charts:
    """The report's chart files (None where the run has nothing to draw)."""

    latency: Path | None = None
    capacity: Path | None = None
    cold: Path | None = None


def footer(results: RunResults) -> str:
    p = results.provenance
    v = p.versions
    shown = ("python", "awslambdaric", "chalice", "uvicorn", "gunicorn")
    stack = ", ".join(f"{k} {v[k]}" for k in shown if k in v)
    return (
        f"{results.source} · {p.platform} · {p.cpu_count} CPU {p.cpu_model} · {p.date_utc} · "
        f"{stack} · reproduce: {p.command}"
    )


def _finish(fig: Figure, results: RunResults, path: Path) -> Path:
    """Stamp the provenance footer on the chart, write it and free the figure."""
    fig.text(0.01, 0.01, footer(results), fontsize=6.5, color="#555", ha="left", va="bottom", wrap=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _color(name: str, index: int) -> str:
    return COLORS.get(name, f"C{index}")


def latency_chart(results: RunResults, path: Path) -> Path:
    runtimes = {n: r.reference for n, r in results.runtimes.items() if r.reference is not None}
    fig, ax = plt.subplots(figsize=(9, 4.8))
    width = 0.8 / max(1, len(runtimes))
    for i, (name, reference) in enumerate(runtimes.items()):
        lat = reference.latency_ms
        xs = [k + i * width for k in range(len(PERCENTILES))]
        ax.bar(xs, [max(lat.get(p), 1e-3) for p in PERCENTILES], width, label=name, color=_color(name, i))
    ax.set_xticks([k + width * (len(runtimes) - 1) / 2 for k in range(len(PERCENTILES))], PERCENTILES)
    ax.set_yscale("log")
    ax.set_ylabel("latency, ms (log scale)")
    rate = results.options.reference_rate
    ax.set_title(f"Latency percentiles at {rate:g} req/s, café mix, open loop — {results.source}")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.subplots_adjust(bottom=0.18)
    return _finish(fig, results, path)


def capacity_chart(results: RunResults, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(9, 4.8))
    slo = results.options.slo_p99_ms
    for i, (name, entry) in enumerate(results.runtimes.items()):
        steps = entry.capacity.steps if entry.capacity is not None else ()
        if not steps:
            continue
        xs = [s.throughput_rps for s in steps]
        ys = [max(s.latency_ms.p99, 1e-3) for s in steps]
        ax.plot(xs, ys, marker="o", label=name, color=_color(name, i))
        for s, x, y in zip(steps, xs, ys, strict=True):
            if not s.verdict.ok:
                ax.annotate("✗", (x, y), textcoords="offset points", xytext=(4, 4), color="red")
    ax.axhline(slo, color="red", linestyle="--", linewidth=1, label=f"SLO p99 {slo:g} ms")
    ax.set_yscale("log")
    ax.set_xlabel("achieved throughput, req/s")
    ax.set_ylabel("p99 latency, ms (log scale)")
    ax.set_title(f"Throughput vs p99 (rate steps until the SLO breaks) — {results.source}")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.subplots_adjust(bottom=0.2)
    return _finish(fig, results, path)


def cold_start_series(cold: ColdStarts | None) -> tuple[str, list[float]] | None:
    if cold is None or not cold.samples:  # remote EC2 has one launch → healthy figure, no samples
        return None
    if cold.is_lambda:
        return "init + first GET /menu", [s.total_ms or 0.0 for s in cold.samples]
    return "spawn → healthy", [s.healthy_ms or 0.0 for s in cold.samples]


def cold_start_chart(results: RunResults, path: Path) -> Path | None:
    series: dict[str, tuple[str, list[float]]] = {}
    for name, entry in results.runtimes.items():
        found = cold_start_series(entry.cold_start)
        if found is not None:
            series[name] = found
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.8))
    names = list(series)
    ax.boxplot([series[n][1] for n in names], showfliers=False)
    for i, name in enumerate(names, start=1):
        values = series[name][1]
        jitter = [i + (k % 5 - 2) * 0.04 for k in range(len(values))]
        ax.scatter(jitter, values, s=14, color=_color(name, i - 1), zorder=3)
    ax.set_xticks(range(1, len(names) + 1), [f"{n}\n({series[n][0]})" for n in names])
    ax.set_ylabel("ms")
    count = max(len(s[1]) for s in series.values())
    ax.set_title(f"Cold starts, {count} fresh starts per runtime — {results.source}")
    ax.grid(axis="y", alpha=0.3)
    fig.subplots_adjust(bottom=0.22)
    return _finish(fig, results, path)


def draw_charts(results: RunResults, out: Path) -> Charts:
    return Charts(
        latency=latency_chart(results, out / "latency_percentiles.png"),
        capacity=capacity_chart(results, out / "throughput_vs_p99.png"),
        cold=cold_start_chart(results, out / "cold_starts.png"),
    )
