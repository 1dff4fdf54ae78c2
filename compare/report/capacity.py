"""Section: capacity, the rate steps until the SLO breaks."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Block, Image, Para, Section, Table, literal
from compare.report.format import errors, ms, slo
from compare.report.warnings import mark
from compare.results import CapacityStep, RunResults

TITLE = "Capacity"
HEADERS = [
    "rate req/s",
    "achieved",
    "p50 ms",
    "p99 ms",
    "max ms",
    "errors",
    "server CPU ms/req",
    "send lag p99 ms",
    "generator CPU",
    "verdict",
]


def _verdict(step: CapacityStep) -> str:
    if not step.verdict.ok:
        return f"✗ {step.verdict.reason}"
    first = step.first_attempt
    return f"✓ (on a second try; the first: {first.verdict.reason})" if first else "✓"


def _row(results: RunResults, name: str, s: CapacityStep) -> list[str]:
    cpu = s.server_cpu.ms_per_request.total if s.server_cpu else None
    return [
        f"{s.target_rate_rps:g}",
        f"{s.throughput_rps:.0f}",
        ms(s.latency_ms.p50),
        mark(results, name, "p99", ms(s.latency_ms.p99)),
        ms(s.latency_ms.max),
        errors(s),
        ms(cpu),
        ms(s.send_lag_ms.p99),
        f"{100 * s.generator_cpu_share:.0f} %",
        _verdict(s),
    ]


def section(results: RunResults, charts: Charts) -> Section:
    opts = results.options
    blocks: list[Block] = [
        Para(
            f"Rate steps of {opts.step_s:g} s (after {opts.warmup_s:g} s warm-up each) through "
            f"{', '.join(f'{r:g}' for r in opts.rates)} req/s, stopping at the first step whose p99 "
            f"exceeds the SLO ({slo(results)}), that has errors, or that delivers under 90 % of what it "
            "sent. Send lag is how late the generator dispatched requests (their latency still counts "
            "from the intended time); the generator shares this machine's CPUs with the servers."
        )
    ]
    for name, entry in results.runtimes.items():
        cap = entry.capacity
        if cap is None:
            continue
        sustainable = f"{cap.sustainable_text()} req/s" if cap.sustainable_rps else "none of the steps"
        sustainable = mark(results, name, "sustainable", sustainable)
        blocks.append(
            Table(
                HEADERS,
                [_row(results, name, s) for s in cap.steps],
                caption=f"{name} — {entry.source}: highest sustainable {sustainable} "
                f"(stopped: {cap.stopped})",
            )
        )
    if charts.capacity is not None:
        c = charts.capacity
        blocks.append(Image(c.path, f"Achieved against offered rate, and p99 — {literal(c.footer)}", c.alt))
    return Section(TITLE, blocks)
