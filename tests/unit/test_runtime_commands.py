"""`make run-*` runs exactly what the deployments run: the container's CMD and the EC2 unit's ExecStart."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def recipe(target: str) -> list[str]:
    """The command words of a Makefile target's recipe, without env assignments and $(BIN)/."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    command = lines[start + 1].strip()
    words = [w for w in shlex.split(command) if not re.match(r"^[A-Z_]+=", w)]
    return [w.replace("$(BIN)/", "") for w in words]


def test_run_fargate_is_the_container_cmd():
    dockerfile = (ROOT / "fargate" / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert json.loads(cmd[4:]) == recipe("run-fargate")


def test_run_ec2_is_the_systemd_units_command():
    script = (ROOT / "ec2" / "user-data.sh").read_text()
    exec_start = next(line for line in script.splitlines() if line.startswith("ExecStart="))
    words = shlex.split(exec_start.removeprefix("ExecStart="))
    words[0] = Path(words[0]).name  # $VENV/bin/gunicorn → gunicorn
    assert words == recipe("run-ec2")
