"""Local processes: start in their own session, wait for /health, CPU time of a process tree.

CPU time comes from /proc/<pid>/stat (utime + stime + cutime + cstime of every process in the
tree), so a gunicorn master with its workers, or the Lambda front with its environments, is
measured as a whole, and children that exit still count through their parent's cutime/cstime.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools.local import free_port, stop_processes

__all__ = ["StartFailed", "Started", "free_port", "health_status", "start_process", "tree_cpu_s"]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class StartFailed(RuntimeError):
    """A process exited or never answered /health."""


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            raw = handle.read()
    except OSError:
        return None
    # Field 2 (comm) may contain spaces: split after its closing parenthesis.
    return raw[raw.rfind(")") + 2 :].split()


def children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def descendants(root: int) -> list[int]:
    tree = children_map()
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(tree.get(pid, []))
    return found


def process_cpu_s(pid: int, include_children: bool = True) -> float:
    """CPU seconds of one process (own, plus reaped children's when include_children)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # After comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    ticks = int(fields[11]) + int(fields[12])
    if include_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def tree_cpu_s(root: int) -> dict[str, float]:
    """{"root": the root process alone, "children": the rest of its tree, "total": both}."""
    pids = descendants(root)
    root_own = process_cpu_s(root, include_children=False)
    rest = sum(process_cpu_s(pid) for pid in pids if pid != root)
    reaped = process_cpu_s(root) - root_own
    children = rest + reaped
    return {"root": root_own, "children": children, "total": root_own + children}


def health_status(port: int, path: str = "/health", timeout: float = 1.0) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


@dataclass
class Started:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    started_at: float
    healthy_after_s: float

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, grace: float = 10.0) -> None:
        stop_processes([self.process], grace)


def start_process(
    name: str,
    argv: Sequence[str],
    port: int,
    env: Mapping[str, str],
    cwd: Path,
    log_path: Path,
    timeout_s: float = 60.0,
    poll_s: float = 0.005,
) -> Started:
    """Start `argv` in its own session and return once GET /health answers 200.

    healthy_after_s is spawn → first 200: the cold start of a server runtime as a client sees it.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        started_at = time.monotonic()
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = started_at + timeout_s
    while time.monotonic() < deadline:
        if health_status(port, timeout=0.5) == 200:
            return Started(name, process, port, started_at, time.monotonic() - started_at)
        if process.poll() is not None:
            raise StartFailed(f"{name} exited with {process.returncode} before /health (log: {log_path})")
        time.sleep(poll_s)
    stop_processes([process])
    raise StartFailed(f"{name}: no healthy /health within {timeout_s:.0f} s (log: {log_path})")
