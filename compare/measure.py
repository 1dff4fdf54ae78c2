"""One measured window against one target: open-loop run + server CPU + Lambda REPORT lines."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compare.cloudwatch import parse_report_lines, summarize_reports
from compare.procs import tree_cpu_s
from compare.scheduler import Http, run_open_loop
from compare.workload import CafeContext, build_plan


@dataclass(frozen=True)
class Probe:
    """Where a target's server-side costs can be read (local runs only)."""

    pid: int | None = None  # root of the server's process tree
    report_log: Path | None = None  # the local Lambda's REPORT lines


def _log_size(path: Path | None) -> int:
    return path.stat().st_size if path is not None and path.exists() else 0


async def measure_window(
    client: Http,
    ctx: CafeContext,
    rate: float,
    warmup_s: float,
    duration_s: float,
    probe: Probe,
    seed_offset: int = 0,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Drive the café mix at `rate` for warm-up + `duration_s`; summarise the measured part."""
    total = warmup_s + duration_s
    plan = build_plan(ctx, rate, total, seed_offset=seed_offset)
    marks: dict[str, Any] = {}

    def measure_start() -> None:
        # Server-side counters cover the measured window only, like the latencies.
        marks["cpu"] = tree_cpu_s(probe.pid) if probe.pid else None
        marks["log"] = _log_size(probe.report_log)
        marks["at"] = time.monotonic()

    result = await run_open_loop(
        client,
        plan,
        warmup_s=warmup_s,
        duration_s=total,
        on_progress=on_progress,
        on_measure_start=measure_start,
    )
    summary = result.summary()
    summary["target_rate_rps"] = rate
    requests = summary["requests"]
    cpu_before = marks.get("cpu")
    if cpu_before is not None and probe.pid:
        after = tree_cpu_s(probe.pid)
        elapsed = time.monotonic() - marks["at"]
        delta = {k: after[k] - cpu_before[k] for k in after}
        summary["server_cpu"] = {
            "seconds": delta,
            "ms_per_request": {k: (v * 1000 / requests if requests else 0.0) for k, v in delta.items()},
            "share_of_one_core": delta["total"] / elapsed if elapsed else 0.0,
            "requests_counted": requests,
        }
    if probe.report_log is not None and probe.report_log.exists():
        with open(probe.report_log, encoding="utf-8", errors="replace") as handle:
            handle.seek(marks.get("log", 0))
            reports = parse_report_lines(handle.read().splitlines())
        summary["lambda_reports"] = summarize_reports(reports)
    return summary
