"""Settings the cost model takes from what the deploy actually creates (infra/), so a default here
cannot drift from the templates: log retention, tracing, the ECR lifecycle rule, the EMF metrics."""

from __future__ import annotations

import inspect
import json
from typing import Any, Final

from infra import lambda_package
from infra.templates import fargate as fargate_template

#: The custom metrics every runtime emits as EMF lines (shared/cafe/observability.py), one metric
#: each per runtime (dimension ``runtime``); tests/cost keep this list in step with that module.
# The custom metrics the code emits while the café is open (cafe.observability), priced per metric
# for the hours they receive data. The staff-lockout pair is emitted only during a wrong-token burst:
# an hour or two a month at most, so it is listed, not priced.
EMF_METRICS: Final = ("OrdersPlaced", "OrderValue", "RejectedRequests")
EMF_ABUSE_ONLY_METRICS: Final = ("StaffLockouts", "StaffLockoutRefusals")


def lambda_settings() -> dict[str, Any]:
    retention = inspect.signature(lambda_package.deploy_settings).parameters["log_retention_days"].default
    settings = lambda_package.deploy_settings("dev", log_retention_days=retention)
    return {"xray": bool(settings["xray"]), "log_retention_days": int(settings["log_retention_in_days"])}


def fargate_settings() -> dict[str, Any]:
    t = fargate_template.template()
    lifecycle = json.loads(
        t["Resources"]["Repository"]["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
    )
    kept = max(int(rule["selection"]["countNumber"]) for rule in lifecycle["rules"])
    return {
        "log_retention_days": int(t["Parameters"]["LogRetentionDays"]["Default"]),
        "images_kept": kept,
        # Server processes per task (WEB_CONCURRENCY): each holds its own live hub and feed reader.
        "workers_per_task": int(t["Parameters"]["WebConcurrency"]["Default"]),
    }
