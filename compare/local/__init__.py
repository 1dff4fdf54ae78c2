"""The runtimes on this machine: their one list, ports and commands, starting and stopping them,
and the local Lambda (API-Gateway-style front over real `awslambdaric` environments)."""

from compare.local.cafe import LocalCafe
from compare.local.processes import free_port, stop_processes, wait_healthy
from compare.local.runtimes import DEFAULT_PORTS, RUNTIMES, RunOptions, RuntimeSpec, runtime_spec

__all__ = [
    "DEFAULT_PORTS",
    "RUNTIMES",
    "LocalCafe",
    "RunOptions",
    "RuntimeSpec",
    "free_port",
    "runtime_spec",
    "stop_processes",
    "wait_healthy",
]
