"""Measured windows against one target: open-loop run + server CPU + Lambda REPORT lines.

A window can be measured in rounds (interleaved with other targets' rounds by the caller) and
summarised as one: on a shared machine, slow drift in background load then falls on every target
alike instead of on whichever ran last, and the per-round percentiles show the spread.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from compare.load.causes import describe, not_the_app
from compare.load.http import Http
from compare.load.scheduler import RunResult, combined_summary, run_open_loop
from compare.load.stats import percentile_summary
from compare.load.workload import CafeContext, build_plan
from compare.probes.cloudwatch import Report, parse_report_lines, summarize_reports
from compare.probes.cpu import tree_cpu_s
from compare.results import CpuSplit, OperationLatency, ServerCpu, Settling, Window


@dataclass(frozen=True)
class Probe:
    """Where a target's server-side costs can be read (local runs only)."""

    pid: int | None = None  # root of the server's process tree
    report_log: Path | None = None  # the local Lambda's REPORT lines


def _log_size(path: Path | None) -> int:
    return path.stat().st_size if path is not None and path.exists() else 0


@dataclass
class Round:
    """One measured window's raw material, before it is summarised (alone or with others)."""

    result: RunResult
    cpu_s: CpuSplit | None  # the server tree's CPU seconds during the measured part
    elapsed_s: float
    reports: list[Report]


async def measure_round(
    client: Http,
    ctx: CafeContext,
    rate: float,
    warmup_s: float,
    duration_s: float,
    probe: Probe,
    seed_offset: int = 0,
    on_progress: Callable[[int], None] | None = None,
    on_measure_start: Callable[[], None] | None = None,
) -> Round:
    """Drive the café mix at `rate` for warm-up + `duration_s`; keep the measured part
    (`on_measure_start`: the caller's own counters, started with the measured part)."""
    total = warmup_s + duration_s
    plan = build_plan(ctx, rate, total, seed_offset=seed_offset)
    marks: dict[str, Any] = {}

    def measure_start() -> None:
        # Server-side counters cover the measured window only, like the latencies.
        marks["cpu"] = tree_cpu_s(probe.pid) if probe.pid else None
        marks["log"] = _log_size(probe.report_log)
        marks["at"] = time.monotonic()
        if on_measure_start is not None:
            on_measure_start()

    result = await run_open_loop(
        client,
        plan,
        warmup_s=warmup_s,
        duration_s=total,
        on_progress=on_progress,
        on_measure_start=measure_start,
    )
    elapsed = time.monotonic() - marks["at"] if "at" in marks else 0.0
    cpu: CpuSplit | None = None
    if marks.get("cpu") is not None and probe.pid:
        cpu = tree_cpu_s(probe.pid) - marks["cpu"]
    reports: list[Report] = []
    if probe.report_log is not None and probe.report_log.exists():
        with open(probe.report_log, encoding="utf-8", errors="replace") as handle:
            handle.seek(marks.get("log", 0))
            reports = parse_report_lines(handle.read().splitlines())
    return Round(result, cpu, elapsed, reports)


def summarize_rounds(rounds: Sequence[Round], rate: float, probe: Probe) -> Window:
    """One summary of a target's rounds at one rate, plus each round's percentiles (spread)."""
    window = combined_summary([r.result for r in rounds])
    per_round = tuple(
        OperationLatency(r.result.recorder.count, percentile_summary(r.result.recorder.merged()))
        for r in rounds
    )
    measured = [r.cpu_s for r in rounds if r.cpu_s is not None]
    server_cpu = None
    if measured:
        seconds = sum(measured[1:], measured[0])
        elapsed = sum(r.elapsed_s for r in rounds)
        server_cpu = ServerCpu(
            seconds=seconds,
            ms_per_request=seconds.per(window.requests, scale=1000.0),
            share_of_one_core=seconds.total / elapsed if elapsed else 0.0,
            requests_counted=window.requests,
        )
    reports = None
    if probe.report_log is not None and probe.report_log.exists():
        reports = summarize_reports([rep for r in rounds for rep in r.reports])
    return replace(
        window, target_rate_rps=rate, rounds=per_round, server_cpu=server_cpu, lambda_reports=reports
    )


def transient_text(window: Window) -> str:
    """What made a window a transient: who else answered, the cold starts met, its p99."""
    parts = [describe(not_the_app(window.errors_by_cause))]
    if window.lambda_reports is not None and window.lambda_reports.cold_starts:
        parts.append(f"{window.lambda_reports.cold_starts} cold starts")
    return ", ".join(parts) + f"; p99 {window.latency_ms.p99:.0f} ms"


async def once_more_if_transient(
    measure: Callable[[int], Awaitable[Round]], rate: float, probe: Probe, settling: Settling | None
) -> tuple[Round, str]:
    """A reference round, measured once more where the runtime had settled but something other than
    the café answered in it: a stall that set off a storm of starts (emulated environments share two
    cores, so each start slows the next) is a transient, not the steady state. Returns the round
    kept and, when there were two, what made the first a transient (named in the report, not hidden)."""
    first = await measure(0)
    window = summarize_rounds([first], rate, probe)
    if settling is None or not settling.steady or not not_the_app(window.errors_by_cause):
        return first, ""
    return await measure(1), transient_text(window)
