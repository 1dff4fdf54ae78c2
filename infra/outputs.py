"""Deployed endpoints, saved where the comparison tool looks: ``build/outputs/<runtime>-<stage>.json``.

Format (one JSON object): ``runtime``, ``stage``, ``region``, ``stack``, ``url`` (base URL of the
service, no trailing slash), ``outputs`` (all stack outputs), ``deployed_at`` (UTC ISO-8601).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OUTPUTS_DIR_ENV = "CAFE_OUTPUTS_DIR"


def outputs_dir() -> Path:
    return Path(os.environ.get(OUTPUTS_DIR_ENV, "build/outputs"))


def outputs_path(runtime: str, stage: str) -> Path:
    return outputs_dir() / f"{runtime}-{stage}.json"


def save(runtime: str, stage: str, region: str, stack: str, outputs: dict[str, str]) -> Path:
    record: dict[str, Any] = {
        "runtime": runtime,
        "stage": stage,
        "region": region,
        "stack": stack,
        "url": outputs.get("Url", "").rstrip("/"),
        "outputs": outputs,
        "deployed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = outputs_path(runtime, stage)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


def load(runtime: str, stage: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(outputs_path(runtime, stage).read_text(encoding="utf-8"))
    return data


def forget(runtime: str, stage: str) -> None:
    outputs_path(runtime, stage).unlink(missing_ok=True)
