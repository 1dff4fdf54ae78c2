"""The one list of runtimes, their local ports, how each is run, and the command that runs it.

Everything that starts a runtime on this machine reads this module: `make run-*` and `make up`
(devtools.local), the tests' `live_cafe`, the benchmarks and the comparison.

- lambda:  the local Lambda (compare.local.lambda_emu): API-Gateway-style front, one `awslambdaric`
           process per execution environment, cwd chalice_app/, handler app.app; with API Gateway's
           WebSocket API (app.ws_connect / ws_message / ws_disconnect) and the order book's change
           feed handed to app.order_book_stream, each its own function, as deployed.
- fargate: the container's entry command `python -m fargate.serve` with the task's worker count.
- ec2:     the systemd unit's command `gunicorn -c ec2/gunicorn.conf.py ec2.app:application`
           (one worker per vCPU).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIMES: tuple[str, ...] = ("lambda", "fargate", "ec2")
DEFAULT_PORTS: Mapping[str, int] = {"lambda": 8001, "fargate": 8002, "ec2": 8003}


@dataclass(frozen=True)
class RunOptions:
    """How the runtimes are run locally; the defaults are the deployed ones (compare.local.shapes).

    `envelopes`: hold each runtime to its deployed CPU and memory (cgroups); the comparison turns it
    on, `make up` and the tests leave it off. `ec2_credits`: "full" or "exhausted" (the baseline).
    """

    lambda_concurrency: int = 32  # most execution environments at once (then throttled)
    lambda_memory_mb: int = 512
    fargate_workers: int = 1  # the template's default task is 0.25 vCPU → 1 worker
    envelopes: bool = False
    ec2_credits: str = "full"


@dataclass(frozen=True)
class RuntimeSpec:
    """One runtime's command on this machine: argv, the port it listens on, its own environment."""

    name: str
    argv: tuple[str, ...]
    port: int
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    description: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """The caller's environment, then `base` (store, token), then the runtime's own settings."""
        return {**os.environ, **base, **self.env}


def _bin(tool: str) -> str:
    return str(Path(sys.executable).with_name(tool))


def runtime_spec(
    name: str, port: int, options: RunOptions = RunOptions(), lambda_log: Path | None = None
) -> RuntimeSpec:
    """The command that runs `name` on `port` (lambda_log: where the local Lambda writes REPORT lines)."""
    py = sys.executable
    local = {"HOST": "127.0.0.1", "PORT": str(port)}
    if name == "lambda":
        argv = [py, "-m", "compare.local.lambda_emu", "--port", str(port), "--app-dir"]
        argv += [str(ROOT / "chalice_app"), "--handler", "app.app"]
        argv += ["--websocket", "--stream-handler", "app.order_book_stream"]  # live push (issue 28)
        argv += [
            "--concurrency",
            str(options.lambda_concurrency),
            "--memory-mb",
            str(options.lambda_memory_mb),
            "--envelope",
            "auto" if options.envelopes else "none",
        ]
        if lambda_log is not None:
            argv += ["--log", str(lambda_log)]
        description = (
            f"local Lambda emulation: awslambdaric environments, ≤ {options.lambda_concurrency} at once"
        )
        return RuntimeSpec(name, tuple(argv), port, local, description=description)
    if name == "fargate":
        return RuntimeSpec(
            name,
            (py, "-m", "fargate.serve"),
            port,
            {**local, "WEB_CONCURRENCY": str(options.fargate_workers)},
            description=f"python -m fargate.serve, WEB_CONCURRENCY={options.fargate_workers} "
            "(the task's worker count)",
        )
    if name == "ec2":
        from compare.local.shapes import ec2_instance_type, ec2_shape  # the templates: only when asked

        workers = ec2_shape().workers or 1
        return RuntimeSpec(
            name,
            (_bin("gunicorn"), "-c", "ec2/gunicorn.conf.py", "ec2.app:application"),
            port,
            {**local, "WEB_CONCURRENCY": str(workers)},
            description="gunicorn -c ec2/gunicorn.conf.py ec2.app:application "
            f"({workers} workers: 1 per vCPU of {ec2_instance_type()})",
        )
    raise ValueError(f"unknown runtime {name!r}; choose from {', '.join(RUNTIMES)}")
