"""Logging, metrics and tracing with aws-lambda-powertools, the same in every runtime.

Logger writes JSON lines (request id, runtime, order id where there is one); Metrics writes
CloudWatch EMF lines to stdout, which CloudWatch turns into metrics from any log group — the
Lambda log group, the Fargate task's awslogs group and the EC2 agent's group alike. The
Tracer (X-Ray) is created only when ``CAFE_TRACING`` is on, since creating it costs ≈ 200 ms
of start-up and needs the X-Ray SDK, which only the AWS deployments ship.

Two choices keep telemetry off the hot path (bench/throughput.py, issue 14):

* A request's log keys are kept in a context variable and handed to the Logger only when a
  line is written: most requests write none, and binding them cost more than serving the menu.
* On a server runtime (Fargate, EC2) metrics wait in a batch, written as one EMF line at most
  ``flush_interval`` seconds after the first of them (and at exit); a count becomes one summed
  value per batch, which CloudWatch's Sum reads the same. Lambda writes at once
  (``flush_interval`` 0): a frozen environment runs no timer and may be reaped before one fires.
"""

from __future__ import annotations

import atexit
import contextvars
import os
import threading
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "cafe-compute"  # not "cafe": Chalice already owns the logger named after its app
NAMESPACE = "CafeCompute"
#: Seconds a server runtime may hold metrics before writing them (``CAFE_METRICS_FLUSH_SECONDS``).
SERVER_FLUSH_SECONDS = 1.0
BATCHED_RUNTIMES = frozenset({"fargate", "ec2"})

Metric = tuple[str, MetricUnit, float]
_request_keys: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("cafe_request_keys")


def flush_interval_for(runtime: str, env: Mapping[str, str] | None = None) -> float:
    """How long ``runtime`` batches metrics: 0 (at once) on Lambda, a second on the servers."""
    env = os.environ if env is None else env
    default = SERVER_FLUSH_SECONDS if runtime in BATCHED_RUNTIMES else 0.0
    return max(0.0, float(env.get("CAFE_METRICS_FLUSH_SECONDS") or default))


class Telemetry:
    """The one place the API layer reports to; safe to share between threads."""

    def __init__(self, runtime: str, *, flush_interval: float = 0.0) -> None:
        self.runtime = runtime
        self.flush_interval = flush_interval
        self.logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
        self.logger.append_keys(runtime=runtime)
        self.metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE))
        self.metrics.set_default_dimensions(runtime=runtime)
        # powertools keeps metrics in shared state: adding and flushing must not interleave.
        self._metrics_lock = threading.Lock()
        self._pending: list[Metric] = []
        self._timer: threading.Timer | None = None
        if flush_interval > 0:
            atexit.register(self.flush_metrics)
        self.tracer: Any = None
        if os.environ.get("CAFE_TRACING", "").lower() in ("1", "true", "on"):
            from aws_lambda_powertools import Tracer

            self.tracer = Tracer(service=SERVICE)

    # -- logging -----------------------------------------------------------------------
    def start_request(self, request_id: str, method: str, path: str) -> None:
        _request_keys.set({"request_id": request_id, "method": method, "path": path})

    def annotate(self, **keys: Any) -> None:
        _request_keys.get({}).update(keys)

    def log(self, level: str, message: str, **extra: Any) -> None:
        """Write one line with the current request's keys (``level``: info, warning, exception…)."""
        self.logger.thread_safe_clear_keys()
        self.logger.thread_safe_append_keys(**_request_keys.get({}))
        # stacklevel 3: the line's "location" names our caller, not this helper.
        getattr(self.logger, level)(message, extra=extra or None, stacklevel=3)

    # -- the events the API reports ------------------------------------------------------
    def order_placed(self, value: int) -> None:
        """Order value is in the menu currency's minor unit (KRW by default)."""
        self._emit(("OrdersPlaced", MetricUnit.Count, 1), ("OrderValue", MetricUnit.NoUnit, value))

    def request_rejected(self, status: int, code: str) -> None:
        self._emit(("RejectedRequests", MetricUnit.Count, 1))
        self.log("info", "request rejected", status=status, error_code=code)

    def staff_locked_out(self, client: str, seconds: float) -> None:
        """A client reached the wrong-token limit and is now refused for ``seconds``."""
        self._emit(("StaffLockouts", MetricUnit.Count, 1))
        self.log("warning", "staff client locked out", client=client, lockout_seconds=seconds)

    def staff_refused(self, client: str) -> None:
        """A staff call refused because its client is locked out."""
        self._emit(("StaffLockoutRefusals", MetricUnit.Count, 1))
        self.log("warning", "staff call refused: client locked out", client=client)

    # -- metrics -----------------------------------------------------------------------
    def _emit(self, *metrics: Metric) -> None:
        with self._metrics_lock:
            self._pending.extend(metrics)
            if self.flush_interval <= 0:
                self._write_pending()
            elif self._timer is None:
                self._timer = threading.Timer(self.flush_interval, self.flush_metrics)
                self._timer.daemon = True  # never hold up an exit; atexit flushes instead
                self._timer.start()

    def flush_metrics(self) -> None:
        """Write what is waiting now (the timer, exit, and tests call this)."""
        with self._metrics_lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._write_pending()

    def _write_pending(self) -> None:
        """One EMF line for the batch; powertools splits it past 100 values of one metric."""
        if not self._pending:
            return
        counts: dict[str, float] = {}
        for name, unit, value in self._pending:
            if unit == MetricUnit.Count:
                counts[name] = counts.get(name, 0.0) + value
            else:
                self.metrics.add_metric(name=name, unit=unit, value=value)
        for name, total in counts.items():
            self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=total)
        self._pending.clear()
        self.metrics.flush_metrics()
