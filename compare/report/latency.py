"""Section: latency at the reference rate, per runtime and per operation."""

from __future__ import annotations

from compare.load.causes import describe
from compare.report.charts import Charts
from compare.report.document import Block, Image, Section, Table, literal
from compare.report.format import errors, ms
from compare.results import RunResults, RuntimeResult, Settings, Window

TITLE = "Latency at the reference rate"
PERCENTILES = ("p50", "p90", "p99", "p99.9", "max")


def _rounds(ref: Window, opts: Settings) -> str:
    if len(ref.rounds) < 2:
        return ""
    p99s = " / ".join(ms(r.latency_ms.p99) for r in ref.rounds)
    return (
        f", in {len(ref.rounds)} rounds taken in turn with the other runtimes"
        f" ({opts.round_warmup_s:g} s warm-up before each later round); p99 by round {p99s} ms"
    )


def _before(entry: RuntimeResult) -> str:
    s = entry.settling
    if s is None:
        return ""
    return f"settling ({'steady' if s.steady else 'NOT steady'} after {s.seconds:.1f} s) and "


def _steady(ref: Window) -> str:
    if ref.steady is None:
        return ""
    return " **window steady**;" if ref.steady else " **window NOT steady** (see the warm-up section);"


def section(results: RunResults, charts: Charts) -> Section:
    opts = results.options
    blocks: list[Block] = []
    for name, entry in results.runtimes.items():
        ref = entry.reference
        if ref is None:
            continue
        rows = [["all", str(ref.requests), *(ms(ref.latency_ms.get(p)) for p in PERCENTILES)]]
        for op, data in ref.by_operation.items():
            rows.append([op, str(data.requests), *(ms(data.latency_ms.get(p)) for p in PERCENTILES)])
        blocks.append(
            Table(
                ["operation", "requests", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"],
                rows,
                caption=f"{name} — {entry.source}:"
                f" {opts.reference_rate:g} req/s for "
                f"{opts.reference_s:g} s after {_before(entry)}{opts.reference_warmup_s:g} s warm-up"
                f"{_rounds(ref, opts)};{_steady(ref)}"
                f" achieved {ref.throughput_rps:.1f} req/s; errors: {errors(ref)}"
                f" (by cause: {describe(ref.errors_by_cause)});"
                f" statuses {dict(ref.statuses)}; generator send lag p99 {ms(ref.send_lag_ms.p99)} ms",
            )
        )
    if charts.latency is not None:
        c = charts.latency
        blocks.append(Image(c.path, f"Latency percentiles per runtime — {literal(c.footer)}", c.alt))
    return Section(TITLE, blocks)
