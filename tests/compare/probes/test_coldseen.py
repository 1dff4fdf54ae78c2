"""New cold starts between two marks: the local REPORT log and CloudWatch Logs (moto)."""

from __future__ import annotations

import time
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from compare.probes.coldseen import CloudWatchCounter, ReportLogCounter

COLD = (
    "REPORT RequestId: {rid}\tDuration: 20.50 ms\tBilled Duration: 21 ms\tMemory Size: 512 MB\t"
    "Max Memory Used: 90 MB\tInit Duration: 480.00 ms\t"
)
WARM = (
    "REPORT RequestId: {rid}\tDuration: 4.20 ms\tBilled Duration: 5 ms\tMemory Size: 512 MB\t"
    "Max Memory Used: 91 MB\t"
)


def test_the_report_log_counts_init_lines_between_marks(tmp_path: Path) -> None:
    log = tmp_path / "reports.log"
    counter = ReportLogCounter(log)
    assert counter.count(0, counter.mark()) is None  # no log yet: not readable
    log.write_text(COLD.format(rid="a") + "\n" + WARM.format(rid="b") + "\n")
    first = counter.mark()
    with log.open("a") as handle:
        handle.write(WARM.format(rid="c") + "\n" + COLD.format(rid="d") + "\n" + COLD.format(rid="e") + "\n")
    assert counter.count(0, first) == 1
    assert counter.count(first, counter.mark()) == 2


def test_cloudwatch_counts_init_lines_in_the_span_and_says_when_it_cannot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    group = "/aws/lambda/cafe"
    with mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        now = int(time.time() * 1000)
        lines = [(now - 5000, COLD), (now - 4000, WARM), (now - 1000, COLD), (now - 900, COLD)]
        events = [{"timestamp": t, "message": m.format(rid=str(i))} for i, (t, m) in enumerate(lines)]
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
        counter = CloudWatchCounter(group, "us-east-1")
        assert counter.count(now - 6000, now - 2000) == 1
        assert counter.count(now - 2000, now) == 2
        assert "CloudWatch Logs /aws/lambda/cafe" in counter.signal
        missing = CloudWatchCounter("/aws/lambda/absent", "us-east-1")
        assert missing.count(now - 6000, now) is None
        assert "not readable" in missing.signal and missing.signal.startswith("latency and errors")
