"""New Lambda cold starts while a runtime is driven: REPORT lines that carry an Init Duration.

Read between two marks: the local emulator's REPORT log (byte offsets) or CloudWatch Logs (epoch
milliseconds; CloudWatch delivers events a few seconds late, so a count taken at an interval's end
can miss the last seconds' cold starts, and a later count of the same span finds them). Where
neither is readable the counter answers None and steadiness rests on latency and errors alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from compare.probes.cloudwatch import fetch_reports, parse_report_lines


class ColdStartCounter(Protocol):
    """What changes a runtime while it warms up, counted between two marks: new Lambda cold
    starts here, scaling activities for a deployed service or group (compare.probes.scaling)."""

    signal: str  # what the count is read from, for the report
    noun: str  # what is counted, for the verdict on steadiness

    def mark(self) -> int: ...

    def count(self, start: int, end: int) -> int | None: ...


@dataclass
class ReportLogCounter:
    """The local Lambda's REPORT log (compare.local.lambda_emu --log)."""

    path: Path
    signal: str = "REPORT lines' Init Duration (the local emulator's log)"
    noun: str = "cold starts"

    def mark(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def count(self, start: int, end: int) -> int | None:
        if not self.path.exists():
            return None
        with open(self.path, "rb") as handle:
            handle.seek(start)
            text = handle.read(max(0, end - start)).decode("utf-8", errors="replace")
        return sum(1 for r in parse_report_lines(text.splitlines()) if r.init_ms is not None)


@dataclass
class CloudWatchCounter:
    """REPORT lines in a CloudWatch log group (remote Lambda with --lambda-log-group)."""

    log_group: str
    region: str | None = None
    signal: str = ""
    noun: str = "cold starts"
    client: Any = field(default=None, repr=False)
    failed: str | None = None

    def __post_init__(self) -> None:
        self.signal = self.signal or f"REPORT lines' Init Duration (CloudWatch Logs {self.log_group})"

    def mark(self) -> int:
        return int(time.time() * 1000)

    def count(self, start: int, end: int) -> int | None:
        if self.failed is not None:
            return None
        try:
            if self.client is None:
                import boto3

                self.client = (
                    boto3.client("logs", region_name=self.region) if self.region else boto3.client("logs")
                )
            reports = fetch_reports(self.client, self.log_group, start, end)
        except Exception as exc:  # any failure means "not readable", said in the report
            self.failed = f"{type(exc).__name__}: {exc}"
            self.signal = f"latency and errors (CloudWatch Logs {self.log_group} not readable: {self.failed})"
            return None
        return sum(1 for r in reports if r.init_ms is not None)
