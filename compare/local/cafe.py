"""The runtimes on one store, started and stopped together: `make up`, the tests, the comparison."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from compare.local.envelopes import Envelopes, Group
from compare.local.processes import Started, spawn, stop_processes, wait_healthy
from compare.local.runtimes import DEFAULT_PORTS, ROOT, RUNTIMES, RunOptions, RuntimeSpec, runtime_spec
from compare.local.shapes import Shape, ec2_shape, fargate_shape, lambda_shape
from compare.results import Envelope

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
    envelopes: Envelopes | None = None
    groups: dict[str, Group] = field(default_factory=dict)

    def shape(self, runtime: str) -> Shape:
        """The runtime's deployed CPU and memory (per environment for Lambda)."""
        if runtime == "lambda":
            return lambda_shape(self.options.lambda_memory_mb)
        if runtime == "fargate":
            return fargate_shape()
        return ec2_shape("exhausted" if self.options.ec2_credits == "exhausted" else "full")

    def envelope(self, runtime: str) -> Envelope:
        """What `runtime` is held to in this run, as results.json records it."""
        shape = self.shape(runtime)
        mechanism = self.envelopes.mechanism if self.envelopes is not None else "none"
        return Envelope(
            cpu_vcpu=round(shape.cpu_vcpu, 4),
            memory_mb=shape.memory_mb,
            enforced=mechanism != "none",
            mechanism=mechanism,
            basis=shape.basis,
            credits=shape.credits,
            workers=shape.workers,
        )

    def group(self, runtime: str) -> Group | None:
        """The envelope a server runtime's processes join (Lambda makes one per environment)."""
        return self.groups.get(runtime)

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
            if self.options.envelopes:
                # The store and the load generator stay outside: only the runtimes are capped.
                self.envelopes = Envelopes.open()
                self.envelopes.sweep_stale()
                for runtime in self.runtimes:
                    if runtime != "lambda":
                        self.groups[runtime] = self.envelopes.group(runtime, self.shape(runtime).limits)
            started_at = time.monotonic()
            processes = {
                r: spawn(specs[r], specs[r].environment(self.env), logs[r], self.groups.get(r))
                for r in self.runtimes
            }
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
        try:
            stop_processes([s.process for s in self.started.values()])
            self.started.clear()
        finally:
            if self.envelopes is not None:
                envelopes, self.envelopes = self.envelopes, None
                self.groups.clear()
                envelopes.close()

    def __enter__(self) -> LocalCafe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
