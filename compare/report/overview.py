"""Section: the summary table, one row per runtime."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Section, Table
from compare.report.format import errors, ms, slo
from compare.report.warnings import mark
from compare.results import RunResults

TITLE = "Summary"
HEADERS = [
    "runtime",
    "p50 ms",
    "p99 ms",
    "max ms",
    "req/s",
    "errors",
    "sustainable req/s",
    "projected p99 ms (AWS)",
    "cold start ms (median)",
    "server CPU ms/req",
    "Lambda billed ms (median)",
]


def section(results: RunResults, charts: Charts) -> Section:
    opts = results.options
    rows = []
    for name, entry in results.runtimes.items():
        ref = entry.reference
        start = entry.cold_start.start_ms if entry.cold_start is not None else None
        cpu = ref.server_cpu if ref is not None else None
        billed = entry.billed
        rows.append(
            [
                name,
                mark(results, name, "p50", ms(ref.latency_ms.p50 if ref else None)),
                mark(results, name, "p99", ms(ref.latency_ms.p99 if ref else None)),
                mark(results, name, "max", ms(ref.latency_ms.max if ref else None)),
                f"{ref.throughput_rps if ref else 0:.0f}",
                errors(ref),
                mark(
                    results, name, "sustainable", entry.capacity.sustainable_text() if entry.capacity else "–"
                ),
                ms(entry.projection.p99_ms) if entry.projection else "–",
                ms(start.median if start else None),
                ms(cpu.ms_per_request.total if cpu else None),
                ms(billed.billed_ms.median if billed else None),
            ]
        )
    caption = (
        f"{results.source}; latency at {opts.reference_rate:g} req/s; sustainable = highest rate step "
        f"meeting the p99 SLO ({slo(results)}) with no errors; projected p99: modeled for AWS from "
        "measured inputs"
    )
    return Section(TITLE, [Table(HEADERS, rows, caption=caption)])
