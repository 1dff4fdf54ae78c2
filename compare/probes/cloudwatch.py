"""Lambda REPORT lines: parse them, summarise them, and read them from CloudWatch Logs.

The same parser reads the local emulator's log and the real CloudWatch events, so the local and
AWS billed-duration figures are computed the same way (and labelled differently).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterable
from typing import Any

from compare.results import (
    BilledSummary,
    DurationSummary,
    InitSummary,
    LambdaReports,
    ReportLine,
    ReportSummary,
    WarmBilled,
)

_REPORT = re.compile(
    r"REPORT RequestId: (?P<request_id>\S+)\s+"
    r"Duration: (?P<duration>[\d.]+) ms\s+"
    r"Billed Duration: (?P<billed>\d+) ms\s+"
    r"Memory Size: (?P<memory>\d+) MB\s+"
    r"Max Memory Used: (?P<used>\d+) MB"
    r"(?:\s+Init Duration: (?P<init>[\d.]+) ms)?"
)


Report = ReportLine  # one REPORT line, as stored in results.json


def parse_report_line(line: str) -> Report | None:
    match = _REPORT.search(line)
    if match is None:
        return None
    init = match.group("init")
    return Report(
        request_id=match.group("request_id"),
        duration_ms=float(match.group("duration")),
        billed_ms=int(match.group("billed")),
        memory_size_mb=int(match.group("memory")),
        max_memory_used_mb=int(match.group("used")),
        init_ms=float(init) if init is not None else None,
    )


def parse_report_lines(lines: Iterable[str]) -> list[Report]:
    return [report for report in map(parse_report_line, lines) if report is not None]


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarize_reports(reports: list[Report]) -> ReportSummary:
    """Medians and tails of Duration / Billed Duration, cold starts and their Init Duration."""
    durations = [r.duration_ms for r in reports]
    billed = [float(r.billed_ms) for r in reports]
    inits = [r.init_ms for r in reports if r.init_ms is not None]
    warm_billed = [float(r.billed_ms) for r in reports if r.init_ms is None]
    return ReportSummary(
        invocations=len(reports),
        cold_starts=len(inits),
        duration_ms=DurationSummary(
            median=_quantile(durations, 0.5), p99=_quantile(durations, 0.99), mean=_mean(durations)
        ),
        billed_ms=BilledSummary(
            median=_quantile(billed, 0.5), p99=_quantile(billed, 0.99), mean=_mean(billed), total=sum(billed)
        ),
        billed_warm_ms=WarmBilled(median=_quantile(warm_billed, 0.5), mean=_mean(warm_billed)),
        init_ms=InitSummary(median=_quantile(inits, 0.5), max=max(inits, default=0.0)),
        memory_size_mb=max((r.memory_size_mb for r in reports), default=0),
        max_memory_used_mb=max((r.max_memory_used_mb for r in reports), default=0),
    )


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def fetch_reports(logs_client: Any, log_group: str, start_ms: int, end_ms: int | None = None) -> list[Report]:
    """REPORT lines of `log_group` between two epoch-millisecond times (boto3 `logs` client)."""
    kwargs: dict[str, Any] = {
        "logGroupName": log_group,
        "startTime": start_ms,
        "filterPattern": '"REPORT RequestId"',
    }
    if end_ms is not None:
        kwargs["endTime"] = end_ms
    reports: list[Report] = []
    for page in logs_client.get_paginator("filter_log_events").paginate(**kwargs):
        reports.extend(parse_report_lines(event.get("message", "") for event in page.get("events", [])))
    return reports


def lambda_reports_from_cloudwatch(log_group: str, start_ms: int, region: str | None) -> LambdaReports:
    """The REPORT lines of `log_group` since `start_ms` (the run's start), summarised."""
    import boto3

    client = boto3.client("logs", region_name=region) if region else boto3.client("logs")
    reports = fetch_reports(client, log_group, start_ms, int(time.time() * 1000))
    return LambdaReports(
        log_group=log_group,
        summary=summarize_reports(reports),
        reports=tuple(reports[:2000]),
    )
