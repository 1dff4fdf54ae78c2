"""The three runtimes as they run locally: the deployed commands, on one SQLite file.

- lambda:  the local Lambda (compare.lambda_emu): API-Gateway-style front, one `awslambdaric`
           process per execution environment, cwd chalice_app/, handler app.app.
- fargate: the container's entry command `python -m fargate.serve` with the task's worker count.
- ec2:     the systemd unit's command `gunicorn -c ec2/gunicorn.conf.py ec2.app:application`
           (one worker per vCPU).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIMES = ("lambda", "fargate", "ec2")


@dataclass(frozen=True)
class RuntimeSpec:
    name: str
    argv: tuple[str, ...]
    port: int
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    description: str = ""


def _bin(tool: str) -> str:
    return str(Path(sys.executable).with_name(tool))


def store_env(sqlite_path: Path, staff_token: str) -> dict[str, str]:
    """What every runtime gets: the embedded SQLite store and the staff token."""
    return {
        "CAFE_STORE": "sqlite",
        "CAFE_SQLITE_PATH": str(sqlite_path),
        "CAFE_STAFF_TOKEN": staff_token,
        "HOST": "127.0.0.1",
    }


def new_staff_token() -> str:
    return secrets.token_urlsafe(24)


def default_specs(
    ports: Mapping[str, int],
    lambda_concurrency: int,
    lambda_memory_mb: int,
    lambda_log: Path,
    fargate_workers: int = 1,
) -> dict[str, RuntimeSpec]:
    py = sys.executable
    return {
        "lambda": RuntimeSpec(
            "lambda",
            (
                py,
                "-m",
                "compare.lambda_emu",
                "--port",
                str(ports["lambda"]),
                "--app-dir",
                str(ROOT / "chalice_app"),
                "--handler",
                "app.app",
                "--concurrency",
                str(lambda_concurrency),
                "--memory-mb",
                str(lambda_memory_mb),
                "--log",
                str(lambda_log),
            ),
            ports["lambda"],
            {"CAFE_RUNTIME": "lambda"},
            description=f"local Lambda emulation: awslambdaric environments, ≤ {lambda_concurrency} at once",
        ),
        "fargate": RuntimeSpec(
            "fargate",
            (py, "-m", "fargate.serve"),
            ports["fargate"],
            {"PORT": str(ports["fargate"]), "WEB_CONCURRENCY": str(fargate_workers)},
            description=f"python -m fargate.serve, WEB_CONCURRENCY={fargate_workers} "
            "(the task's worker count)",
        ),
        "ec2": RuntimeSpec(
            "ec2",
            (_bin("gunicorn"), "-c", "ec2/gunicorn.conf.py", "ec2.app:application"),
            ports["ec2"],
            {"PORT": str(ports["ec2"])},
            description="gunicorn -c ec2/gunicorn.conf.py ec2.app:application "
            f"({os.cpu_count()} workers: 1 per vCPU)",
        ),
    }


def full_env(spec: RuntimeSpec, base: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(base)
    env.update(spec.env)
    return env


def select(specs: Mapping[str, RuntimeSpec], names: Sequence[str]) -> list[RuntimeSpec]:
    return [specs[name] for name in names]
