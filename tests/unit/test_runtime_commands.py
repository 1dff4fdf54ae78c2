"""The local runtimes run exactly what the deployments run: the container's CMD and the EC2 unit's
ExecStart (compare/local/runtimes.py, which `make run-*`, `make up`, the tests and the comparison use)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from compare.local.runtimes import RUNTIMES, runtime_spec

ROOT = Path(__file__).resolve().parents[2]


def command(runtime: str) -> list[str]:
    """The local command's words, with the interpreter and venv tools named as on the servers."""
    argv = list(runtime_spec(runtime, 8080).argv)
    argv[0] = "python" if "python" in Path(argv[0]).name else Path(argv[0]).name
    return argv


def test_fargate_runs_the_container_cmd():
    dockerfile = (ROOT / "fargate" / "Dockerfile").read_text()
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert json.loads(cmd[4:]) == command("fargate")


def test_ec2_runs_the_systemd_units_command():
    script = (ROOT / "ec2" / "user-data.sh").read_text()
    exec_start = next(line for line in script.splitlines() if line.startswith("ExecStart="))
    words = shlex.split(exec_start.removeprefix("ExecStart="))
    words[0] = Path(words[0]).name  # $VENV/bin/gunicorn → gunicorn
    assert words == command("ec2")


def test_every_run_target_goes_through_the_one_command_table():
    makefile = (ROOT / "Makefile").read_text()
    for runtime in RUNTIMES:
        recipe = re.search(rf"^run-{runtime}:.*\n\t(.*)$", makefile, re.MULTILINE)
        assert recipe is not None and recipe.group(1).startswith(f"$(RUN_LOCAL) {runtime}")
