"""PNG charts (matplotlib, Agg backend), each stamped with where its numbers come from and described
in words for the HTML's alt text."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from compare.chartstyle import (
    SLO_COLOR,
    finish,
    plain_log_axis,
    provenance_footer,
    runtime_color,
)
from compare.report.format import ms
from compare.results import MODELED, CapacityStep, ColdStarts, RunResults

PERCENTILES = ("p50", "p90", "p99", "p99.9", "max")


@dataclass(frozen=True)
class Chart:
    """A chart file with its alt text (what it shows, in words) and its provenance footer."""

    path: Path
    alt: str
    footer: str


@dataclass(frozen=True)
class Charts:
    """The report's charts (None where the run has nothing to draw)."""

    latency: Chart | None = None
    capacity: Chart | None = None
    cold: Chart | None = None
    day: Chart | None = None
    breakeven: Chart | None = None
    sensitivity: Chart | None = None
    notice: Chart | None = None

    def all(self) -> list[Chart]:
        found = (
            self.latency,
            self.capacity,
            self.cold,
            self.day,
            self.breakeven,
            self.sensitivity,
            self.notice,
        )
        return [c for c in found if c is not None]


def footer(results: RunResults, label: str | None = None) -> str:
    """The run's provenance footer: label, machine, date, git, the stack's versions, the command."""
    p = results.provenance
    v = p.versions
    shown = ("python", "awslambdaric", "chalice", "uvicorn", "gunicorn")
    stack = ", ".join(f"{k} {v[k]}" for k in shown if k in v)
    details = (
        f"{p.platform} · {p.cpu_count} CPU {p.cpu_model} · {p.date_utc} · git {p.git_revision or '?'}"
        + (f" · {stack}" if stack else "")
    )
    return provenance_footer(label or results.source, details, p.command)


def latency_chart(results: RunResults, path: Path) -> Chart | None:
    runtimes = {n: r.reference for n, r in results.runtimes.items() if r.reference is not None}
    if not runtimes:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.8))
    width = 0.8 / len(runtimes)
    for i, (name, reference) in enumerate(runtimes.items()):
        lat = reference.latency_ms
        xs = [k + i * width for k in range(len(PERCENTILES))]
        values = [max(lat.get(p), 1e-3) for p in PERCENTILES]
        ax.bar(xs, values, width, label=name, color=runtime_color(name, i))
    ax.set_xticks([k + width * (len(runtimes) - 1) / 2 for k in range(len(PERCENTILES))], PERCENTILES)
    ax.set_yscale("log")
    plain_log_axis(ax.yaxis)
    ax.set_ylabel("latency, ms (log scale)")
    rate = results.options.reference_rate
    ax.set_title(f"Latency percentiles at {rate:g} req/s, café mix, open loop — {results.source}")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.subplots_adjust(bottom=0.18)
    text = footer(results)
    described = "; ".join(
        f"{n} p50 {ms(w.latency_ms.p50)} ms, p99 {ms(w.latency_ms.p99)} ms, max {ms(w.latency_ms.max)} ms"
        for n, w in runtimes.items()
    )
    alt = (
        f"Bar chart, log scale: latency percentiles p50 to max per runtime at {rate:g} req/s "
        f"({results.source}). {described}."
    )
    return Chart(finish(fig, text, path), alt, text)


def _offered(step: CapacityStep) -> float:
    return step.target_rate_rps or step.offered_rps


def capacity_chart(results: RunResults, path: Path) -> Chart | None:
    """Achieved against offered rate (top) and p99 against offered rate (bottom), both sorted by the
    offered rate, so a saturated step never draws a line backwards; the SLO and each runtime's
    sustainable rate are marked."""
    ladders = {
        n: sorted(r.capacity.steps, key=_offered)
        for n, r in results.runtimes.items()
        if r.capacity is not None and r.capacity.steps
    }
    if not ladders:
        return None
    slo = results.options.slo_p99_ms
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7.5), sharex=True)
    highest = max(_offered(s) for steps in ladders.values() for s in steps)
    lowest = min(_offered(s) for steps in ladders.values() for s in steps)
    top.plot(
        [lowest, highest],
        [lowest, highest],
        color="#999",
        linewidth=0.8,
        linestyle=":",
        label="achieved = offered",
    )
    described = []
    for i, (name, steps) in enumerate(ladders.items()):
        color = runtime_color(name, i)
        xs = [_offered(s) for s in steps]
        top.plot(xs, [max(s.throughput_rps, 1e-3) for s in steps], marker="o", color=color, label=name)
        bottom.plot(xs, [max(s.latency_ms.p99, 1e-3) for s in steps], marker="o", color=color, label=name)
        for s in steps:
            if not s.verdict.ok:
                bottom.annotate(
                    "✗",
                    (_offered(s), max(s.latency_ms.p99, 1e-3)),
                    textcoords="offset points",
                    xytext=(4, 4),
                    color=SLO_COLOR,
                )
        cap = results.runtimes[name].capacity
        assert cap is not None
        if cap.sustainable_rps:
            for ax in (top, bottom):
                ax.axvline(cap.sustainable_rps, color=color, linestyle="--", linewidth=1, alpha=0.8)
            top.text(
                cap.sustainable_rps,
                0.04 + 0.08 * i,
                f" {name} sustains {cap.sustainable_text()} ",
                transform=top.get_xaxis_transform(),  # x in data, y in axes: clear of the lines
                ha="right",
                fontsize=8,
                color=color,
            )
        described.append(f"{name} sustains {cap.sustainable_text()} req/s")
    bottom.axhline(slo, color=SLO_COLOR, linestyle="--", linewidth=1, label=f"SLO p99 {slo:g} ms")
    for ax in (top, bottom):
        ax.set_xlim(lowest / 1.3, highest * 1.3)  # a one-step ladder still gets a readable axis
        ax.set_xscale("log")
        ax.set_yscale("log")
        plain_log_axis(ax.xaxis)
        plain_log_axis(ax.yaxis)
        ax.grid(alpha=0.3, which="major")
        ax.legend(fontsize=8, loc="upper left")
    top.set_ylabel("achieved, req/s")
    bottom.set_ylabel("p99 latency, ms")
    bottom.set_xlabel("offered rate, req/s (log scale); dashed verticals: highest sustainable rate")
    top.set_title(
        f"Achieved against offered rate, steps until the SLO breaks — {results.source}", fontsize=10
    )
    fig.subplots_adjust(bottom=0.14, hspace=0.12)
    text = footer(results)
    alt = (
        "Two log-log panels against the offered rate: achieved throughput (a line under the diagonal "
        f"means the runtime fell behind) and p99 latency with the {slo:g} ms SLO as a horizontal line. "
        + "; ".join(described)
        + "."
    )
    return Chart(finish(fig, text, path), alt, text)


def cold_start_series(cold: ColdStarts | None) -> tuple[str, list[float]] | None:
    if cold is None or not cold.samples:  # remote EC2 has one launch → healthy figure, no samples
        return None
    if cold.is_lambda:
        return "init + first GET /menu", [s.total_ms or 0.0 for s in cold.samples]
    return "spawn → healthy", [s.healthy_ms or 0.0 for s in cold.samples]


def cold_start_chart(results: RunResults, path: Path) -> Chart | None:
    series: dict[str, tuple[str, list[float]]] = {}
    for name, entry in results.runtimes.items():
        found = cold_start_series(entry.cold_start)
        if found is not None:
            series[name] = found
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.8))
    names = list(series)
    ax.boxplot([[max(v, 1e-3) for v in series[n][1]] for n in names], showfliers=False)
    for i, name in enumerate(names, start=1):
        values = [max(v, 1e-3) for v in series[name][1]]
        jitter = [i + (k % 5 - 2) * 0.04 for k in range(len(values))]
        ax.scatter(jitter, values, s=14, color=runtime_color(name, i - 1), zorder=3)
    ax.set_xticks(range(1, len(names) + 1), [f"{n}\n({series[n][0]})" for n in names])
    ax.set_yscale("log")
    plain_log_axis(ax.yaxis)
    ax.set_ylabel("ms (log scale)")
    count = max(len(s[1]) for s in series.values())
    ax.set_title(f"Cold starts, {count} fresh starts per runtime — {results.source}")
    ax.grid(axis="y", alpha=0.3)
    fig.subplots_adjust(bottom=0.22)
    text = footer(results)
    medians = "; ".join(
        f"{n} {series[n][0]} median {ms(sorted(series[n][1])[len(series[n][1]) // 2])} ms" for n in names
    )
    alt = (
        f"Box plot with each start as a dot, log scale: cold starts per runtime ({results.source}). "
        f"{medians}."
    )
    return Chart(finish(fig, text, path), alt, text)


def _existing(path_text: str | None, out: Path) -> Path | None:
    """A chart another tool drew beside the report (the day, the break-even), if it is there."""
    if not path_text:
        return None
    path = Path(path_text)
    for candidate in (path, out / path.name):
        if candidate.is_file():
            return candidate
    return None


def day_chart(results: RunResults, out: Path) -> Chart | None:
    path = _existing(results.day_chart, out)
    days = {n: r.day for n, r in results.runtimes.items() if r.day is not None}
    if path is None:
        return None
    described = "; ".join(
        f"{n} {d.requests} requests, day p99 {ms(d.p99_ms)} ms, {100 * d.cold_start_share:.1f} % cold, "
        f"${d.usd:.2f}"
        for n, d in days.items()
    )
    alt = (
        "One panel per runtime over the hours of a simulated business day: requests per hour as bars, "
        f"p99 latency as a line and capacity units as steps ({MODELED}). {described}."
    )
    return Chart(path, alt, footer(results, f"{MODELED} (simulated day from measured and sourced inputs)"))


def breakeven_chart(results: RunResults, out: Path) -> Chart | None:
    cost = results.cost
    path = _existing(cost.chart if cost is not None else None, out)
    if path is None or cost is None or cost.estimate is None:
        return None
    headline = cost.estimate.get("breakeven", {}).get("headline", [])
    alt = (
        "Monthly cost in USD against orders per month, log scale, one line per runtime, pricing "
        "option and mode (solid push, dashed polling), the profile's volume marked "
        f"({MODELED} from list prices). " + " ".join(f"{h}." for h in headline)
    )
    return Chart(path, alt, breakeven_footer(results))


def breakeven_footer(results: RunResults, estimate: Mapping[str, Any] | None = None) -> str:
    """The break-even chart's footer: modeled from the price list, with this run's provenance
    (`estimate`: the cost model's answer, when the run's results do not hold it yet)."""
    if estimate is None and results.cost is not None:
        estimate = results.cost.estimate
    snapshot = ""
    if estimate is not None:
        prices = estimate.get("prices", {})
        snapshot = f"price snapshot {prices.get('snapshot', '?')} ({prices.get('snapshot_date', '?')}) + "
    return footer(results, f"{MODELED} from {snapshot}this run's inputs ({results.source})")


def sensitivity_chart(results: RunResults, path: Path) -> Chart | None:
    """One row per assumption: its range as a bar from low to high, each end coloured by the
    runtime the verdict picks there (a row of one colour cannot flip the verdict)."""
    record = results.verdict
    if record is None or not record.sensitivity:
        return None
    rows = record.sensitivity
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.6))
    order = sorted(
        {row.base for row in rows} | {r.answer_at_low for r in rows} | {r.answer_at_high for r in rows}
    )
    for y, row in enumerate(rows):
        for x0, answer in ((0.0, row.answer_at_low), (0.5, row.answer_at_high)):
            color = runtime_color(answer, order.index(answer)) if answer != "none" else "#bbbbbb"
            ax.barh(y, 0.5, left=x0, color=color, edgecolor="white")
            ax.text(
                x0 + 0.25,
                y,
                f"{answer} at {row.low if x0 == 0 else row.high:g}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if answer != "none" else "black",
            )
    ax.set_yticks(range(len(rows)), [f"{r.input}{'  ◀ flips' if r.flips else ''}" for r in rows], fontsize=8)
    ax.set_xticks([0.25, 0.75], ["low end of the range", "high end of the range"])
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    base = rows[0].base
    ax.set_title(f"The verdict ({base}) at each end of each assumption's range — {MODELED}", fontsize=10)
    fig.subplots_adjust(left=0.38, bottom=0.16)
    text = footer(results, f"{MODELED} (the decision rerun at each end; latency reprojected from this run)")
    flipping = [r.input for r in rows if r.flips]
    alt = (
        f"One bar per assumption, left half the verdict at the low end of its range, right half at the "
        f"high end, coloured by runtime ({MODELED}). The verdict is {base}; "
        + (f"it flips with {', '.join(flipping)}." if flipping else "no input flips it within its range.")
    )
    return Chart(finish(fig, text, path), alt, text)


def notice_chart(results: RunResults, path: Path) -> Chart | None:
    """Notice delay per runtime and mode: p50 bars with the p99 as a mark above each (log scale)."""
    bars: list[tuple[str, str, float, float]] = []  # runtime, mode, p50, p99
    for name, entry in results.runtimes.items():
        for measured in (entry.polling, entry.push):
            if measured is not None and measured.deliveries:
                bars.append((name, measured.mode, measured.notice_ms.p50, measured.notice_ms.p99))
    if not bars:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.8))
    names = list(dict.fromkeys(b[0] for b in bars))
    for name, mode, p50, p99 in bars:
        x = names.index(name) + (-0.2 if mode == "polling" else 0.2)
        color = runtime_color(name, names.index(name))
        ax.bar(
            x,
            max(p50, 1e-1),
            width=0.36,
            color=color,
            alpha=1.0 if mode == "push" else 0.45,
            hatch="" if mode == "push" else "//",
            edgecolor="black",
            linewidth=0.5,
        )
        ax.plot([x - 0.15, x + 0.15], [p99, p99], color="black", linewidth=1.5)
        ax.annotate(
            f"{mode}\np99 {ms(p99)}",
            (x, p99),
            textcoords="offset points",
            xytext=(0, 4),
            ha="center",
            fontsize=7,
        )
    ax.set_xticks(range(len(names)), names)
    ax.set_yscale("log")
    plain_log_axis(ax.yaxis)
    ax.set_ylabel("notice delay, ms (bar p50, line p99; log scale)")
    ax.set_title(f"From a committed change to a screen seeing it — {results.source}")
    ax.grid(axis="y", alpha=0.3)
    fig.subplots_adjust(bottom=0.2)
    text = footer(results)
    described = "; ".join(f"{n} {m}: p50 {ms(a)} ms, p99 {ms(b)} ms" for n, m, a, b in bars)
    alt = f"Bars per runtime, polling (hatched) beside push, log scale ({results.source}): {described}."
    return Chart(finish(fig, text, path), alt, text)


def draw_charts(results: RunResults, out: Path) -> Charts:
    return Charts(
        latency=latency_chart(results, out / "latency_percentiles.png"),
        capacity=capacity_chart(results, out / "throughput_vs_offered.png"),
        cold=cold_start_chart(results, out / "cold_starts.png"),
        day=day_chart(results, out),
        breakeven=breakeven_chart(results, out),
        sensitivity=sensitivity_chart(results, out / "sensitivity.png"),
        notice=notice_chart(results, out / "notice_delay.png"),
    )
