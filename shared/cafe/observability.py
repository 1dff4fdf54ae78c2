"""Logging, metrics and tracing with aws-lambda-powertools, the same in every runtime.

Logger writes JSON lines (request id, runtime, order id where there is one); Metrics writes
CloudWatch EMF lines to stdout, which CloudWatch turns into metrics from any log group — the
Lambda log group, the Fargate task's awslogs group and the EC2 agent's group alike. The
Tracer (X-Ray) is created only when ``CAFE_TRACING`` is on, since creating it costs ≈ 200 ms
of start-up and needs the X-Ray SDK, which only the AWS deployments ship.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "cafe-compute"  # not "cafe": Chalice already owns the logger named after its app
NAMESPACE = "CafeCompute"


class Telemetry:
    """The one place the API layer reports to; safe to share between threads."""

    def __init__(self, runtime: str) -> None:
        self.runtime = runtime
        self.logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
        self.logger.append_keys(runtime=runtime)
        self.metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE))
        self.metrics.set_default_dimensions(runtime=runtime)
        # powertools keeps metrics in shared state: adding and flushing must not interleave.
        self._metrics_lock = threading.Lock()
        self.tracer: Any = None
        if os.environ.get("CAFE_TRACING", "").lower() in ("1", "true", "on"):
            from aws_lambda_powertools import Tracer

            self.tracer = Tracer(service=SERVICE)

    def start_request(self, request_id: str, method: str, path: str) -> None:
        self.logger.thread_safe_clear_keys()
        self.logger.thread_safe_append_keys(request_id=request_id, method=method, path=path)

    def annotate(self, **keys: Any) -> None:
        self.logger.thread_safe_append_keys(**keys)

    def order_placed(self, value: int) -> None:
        """Order value is in the menu currency's minor unit (KRW by default)."""
        self._emit(("OrdersPlaced", MetricUnit.Count, 1), ("OrderValue", MetricUnit.NoUnit, value))

    def request_rejected(self, status: int, code: str) -> None:
        self._emit(("RejectedRequests", MetricUnit.Count, 1))
        self.logger.info("request rejected", extra={"status": status, "error_code": code})

    def staff_locked_out(self, client: str, seconds: float) -> None:
        """A client reached the wrong-token limit and is now refused for ``seconds``."""
        self._emit(("StaffLockouts", MetricUnit.Count, 1))
        self.logger.warning("staff client locked out", extra={"client": client, "lockout_seconds": seconds})

    def staff_refused(self, client: str) -> None:
        """A staff call refused because its client is locked out."""
        self._emit(("StaffLockoutRefusals", MetricUnit.Count, 1))
        self.logger.warning("staff call refused: client locked out", extra={"client": client})

    def _emit(self, *metrics: tuple[str, MetricUnit, float]) -> None:
        with self._metrics_lock:
            for name, unit, value in metrics:
                self.metrics.add_metric(name=name, unit=unit, value=value)
            self.metrics.flush_metrics()
