"""Local processes: start one in its own session, wait for /health, stop its whole group."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from compare.local.envelopes import Group
from compare.local.runtimes import RuntimeSpec


class StartFailed(RuntimeError):
    """A process exited or never answered /health."""


def free_port() -> int:
    """A port nothing listens on right now on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health_status(port: int, path: str = "/health", timeout: float = 1.0) -> int | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_groups(pids: Sequence[int], grace: float = 10.0) -> None:
    """SIGTERM every process group at once, then SIGKILL what is still there after ``grace``
    seconds (servers wait for idle keep-alive connections before they exit)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.02)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)


def stop_processes(processes: Sequence[subprocess.Popen[bytes]], grace: float = 10.0) -> None:
    """Stop the process groups of children we started, reaping their leaders.

    Reaping matters: an unreaped leader is a zombie that still "exists" for ``killpg(pid, 0)``,
    so without it ``stop_groups`` would wait out its whole grace period every time.
    """
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    stop_groups([process.pid for process in processes], grace=2.0)  # the leaders' children
    for process in processes:
        process.wait()


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


def spawn(
    spec: RuntimeSpec, env: dict[str, str], log_path: Path, group: Group | None = None
) -> subprocess.Popen[bytes]:
    """Start `spec` in its own session (its own process group), logging to `log_path`; inside
    `group`'s envelope from its first instruction when one is given (children inherit it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    enter = (lambda: group.add(os.getpid())) if group is not None else None
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            list(spec.argv),
            cwd=spec.cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=enter,  # before exec: the interpreter's start-up is inside the envelope too
        )
    if group is not None:
        group.add(process.pid)  # again from here: an unenforced group tracks pids itself
    return process


def wait_healthy(
    url: str,
    process: subprocess.Popen[bytes],
    timeout: float = 90.0,
    poll_s: float = 0.1,
    log_path: Path | None = None,
) -> None:
    """Return once GET `url`/health answers 200; StartFailed if `process` exits or time runs out."""
    port = urlsplit(url).port or 80
    where = f" (log: {log_path})" if log_path is not None else ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health_status(port, timeout=0.5) == 200:
            return
        if process.poll() is not None:
            raise StartFailed(f"{url}: exited with {process.returncode} before answering /health{where}")
        time.sleep(poll_s)
    raise StartFailed(f"{url}: no healthy /health within {timeout:.0f} s{where}")


def start_process(
    spec: RuntimeSpec,
    env: dict[str, str],
    log_path: Path,
    label: str | None = None,
    timeout_s: float = 60.0,
    poll_s: float = 0.005,
    group: Group | None = None,
) -> Started:
    """Start `spec` in its own session and return once GET /health answers 200.

    healthy_after_s is spawn → first 200: the cold start of a server runtime as a client sees it.
    """
    name = label or spec.name
    started_at = time.monotonic()
    process = spawn(spec, env, log_path, group)
    try:
        wait_healthy(spec.url, process, timeout_s, poll_s, log_path)
    except BaseException:
        stop_processes([process])
        raise
    return Started(name, process, spec.port, started_at, time.monotonic() - started_at)
