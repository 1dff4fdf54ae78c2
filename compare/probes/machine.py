"""Provenance for every figure: which machine, when, which versions, which command."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from compare.local.runtimes import ROOT
from compare.results import Provenance

PACKAGES = (
    "aiohttp",
    "hdrhistogram",
    "awslambdaric",
    "chalice",
    "uvicorn",
    "gunicorn",
    "starlette",
    "aws-lambda-powertools",
    "boto3",
    "matplotlib",
    "rich",
)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def memory_gb() -> float | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def git_revision(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def provenance(command: str, root: Path = ROOT) -> Provenance:
    return Provenance(
        date_utc=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        platform=platform.platform(),
        cpu_count=os.cpu_count(),
        cpu_model=cpu_model(),
        memory_gb=memory_gb(),
        load_average=os.getloadavg(),
        git_revision=git_revision(root),
        versions=versions(),
        command=command,
        argv=tuple(sys.argv),
    )
