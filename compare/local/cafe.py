"""The runtimes on one store, started and stopped together: `make up`, the tests, the comparison."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from compare.local.processes import Started, spawn, stop_processes, wait_healthy
from compare.local.runtimes import DEFAULT_PORTS, ROOT, RUNTIMES, RunOptions, RuntimeSpec, runtime_spec

LOG_DIR = ROOT / "var" / "log"


@dataclass
class LocalCafe:
    """The runtimes on one store, as a context manager.

    `env` is what every runtime gets (CAFE_STORE, CAFE_SQLITE_PATH, CAFE_STAFF_TOKEN);
    `lambda_log` is where the local Lambda appends its REPORT lines, if anywhere.
    """

    env: dict[str, str]
    ports: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    log_dir: Path = LOG_DIR
    runtimes: tuple[str, ...] = RUNTIMES
    options: RunOptions = field(default_factory=RunOptions)
    lambda_log: Path | None = None
    started: dict[str, Started] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        return {runtime: f"http://127.0.0.1:{self.ports[runtime]}" for runtime in self.runtimes}

    @property
    def staff_token(self) -> str:
        return self.env["CAFE_STAFF_TOKEN"]

    @property
    def processes(self) -> dict[str, subprocess.Popen[bytes]]:
        return {runtime: started.process for runtime, started in self.started.items()}

    def spec(self, runtime: str, port: int | None = None) -> RuntimeSpec:
        """`runtime`'s command on its port (or on `port`: a second copy, for cold starts)."""
        return runtime_spec(
            runtime, self.ports[runtime] if port is None else port, self.options, self.lambda_log
        )

    def start(self, on_started: Callable[[int], None] | None = None) -> LocalCafe:
        """Start every runtime at once, return when all answer /health (`on_started(count)` after each)."""
        specs = {runtime: self.spec(runtime) for runtime in self.runtimes}
        logs = {runtime: self.log_dir / f"{runtime}.log" for runtime in self.runtimes}
        try:
            started_at = time.monotonic()
            processes = {r: spawn(specs[r], specs[r].environment(self.env), logs[r]) for r in self.runtimes}
            for runtime, process in processes.items():
                self.started[runtime] = Started(runtime, process, specs[runtime].port, started_at, 0.0)
            for count, (runtime, process) in enumerate(processes.items(), start=1):
                wait_healthy(specs[runtime].url, process, 90.0, 0.05, logs[runtime])
                if on_started is not None:
                    on_started(count)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_processes([s.process for s in self.started.values()])
        self.started.clear()

    def __enter__(self) -> LocalCafe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
