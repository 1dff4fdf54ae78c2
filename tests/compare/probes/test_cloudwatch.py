"""REPORT lines: parsing, and reading them from CloudWatch Logs (moto)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from compare.probes.cloudwatch import fetch_reports, parse_report_line, summarize_reports

COLD = (
    "REPORT RequestId: 3f1e8a62-0c1b-4a8e-9b1a-7c9d2e5f6a01\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
    "Memory Size: 512 MB\tMax Memory Used: 78 MB\tInit Duration: 412.50 ms\t"
)
WARM = (
    "REPORT RequestId: 9a8b7c6d-0000-4000-8000-000000000002\tDuration: 3.01 ms\tBilled Duration: 4 ms\t"
    "Memory Size: 512 MB\tMax Memory Used: 80 MB\t"
)
XRAY = (
    WARM.replace("0002", "0003")
    + "\nXRAY TraceId: 1-5e1b4151-5ac6c58f5d1b4b3c2b6c1a0e\tSegmentId: 6b1c\tSampled: true\t"
)


def test_parse_cold_and_warm_lines() -> None:
    cold = parse_report_line(COLD)
    assert cold is not None
    assert (cold.duration_ms, cold.billed_ms, cold.memory_size_mb, cold.max_memory_used_mb, cold.init_ms) == (
        12.34,
        13,
        512,
        78,
        412.5,
    )
    warm = parse_report_line(WARM)
    assert warm is not None and warm.init_ms is None and warm.billed_ms == 4
    assert parse_report_line(XRAY) is not None
    assert parse_report_line("START RequestId: x Version: $LATEST") is None


@pytest.fixture
def logs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("logs", region_name="us-east-1")


def test_fetch_reports_from_cloudwatch_logs(logs: Any) -> None:
    group = "/aws/lambda/cafe-dev"
    logs.create_log_group(logGroupName=group)
    now = int(time.time() * 1000)
    messages = []
    for i in range(3):
        stream = f"2026/11/26/[$LATEST]{i:032x}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        lines = [
            f"START RequestId: r{i} Version: $LATEST",
            '{"level":"INFO","message":"order placed"}',
            f"END RequestId: r{i}",
            COLD if i == 0 else WARM.replace("0002", f"{i:04d}"),
        ]
        events = [{"timestamp": now + i * 10 + k, "message": line} for k, line in enumerate(lines)]
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)
        messages += lines
    reports = fetch_reports(logs, group, now - 1000, now + 10_000)
    assert len(reports) == 3
    summary = summarize_reports(reports)
    assert summary.invocations == 3 and summary.cold_starts == 1
    assert summary.init_ms.median == 412.5
    assert summary.billed_ms.total == 13 + 4 + 4
    assert summary.billed_warm_ms.mean == 4
    assert summary.max_memory_used_mb == 80
    # The time window is honoured.
    assert fetch_reports(logs, group, now + 60_000) == []
