"""Start and stop the three runtimes locally with the Makefile's own ``run-*`` targets.

``python -m devtools.local up`` (``make up``) starts them in the background on one SQLite
file and returns once all three answer ``/health``; ``down`` stops exactly the process
groups that ``up`` recorded. ``LocalCafe`` does the same for tests and the comparison tool.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIMES = ("lambda", "fargate", "ec2")
DEFAULT_PORTS = {"lambda": 8001, "fargate": 8002, "ec2": 8003}
PORT_VARIABLES = {"lambda": "LAMBDA_PORT", "fargate": "FARGATE_PORT", "ec2": "EC2_PORT"}
STATE_DIR = ROOT / "var" / "run"
LOG_DIR = ROOT / "var" / "log"
TOKEN_FILE = ROOT / "var" / "staff-token"


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:  # noqa: S310 - local URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url):
            return
        if process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode} before answering /health")
        time.sleep(0.1)
    raise TimeoutError(f"{url}: no healthy /health within {timeout:.0f} s")


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def free_port() -> int:
    """A port nothing listens on right now on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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


def start_runtime(runtime: str, port: int, env: Mapping[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """``make -s run-<runtime>`` in its own process group, logging to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            ["make", "-s", "--no-print-directory", f"run-{runtime}", f"{PORT_VARIABLES[runtime]}={port}"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class LocalCafe:
    """The three runtimes on one store, as a context manager."""

    env: dict[str, str]
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    log_dir: Path = LOG_DIR
    runtimes: tuple[str, ...] = RUNTIMES
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        return {runtime: f"http://127.0.0.1:{self.ports[runtime]}" for runtime in self.runtimes}

    @property
    def staff_token(self) -> str:
        return self.env["CAFE_STAFF_TOKEN"]

    def start(self) -> LocalCafe:
        # Bootstrap the venv once, before three make processes would each check it.
        subprocess.run(["make", "-s", "--no-print-directory", "setup"], cwd=ROOT, check=True)
        try:
            for runtime in self.runtimes:
                self.processes[runtime] = start_runtime(
                    runtime, self.ports[runtime], self.env, self.log_dir / f"{runtime}.log"
                )
            for runtime in self.runtimes:
                wait_healthy(self.urls[runtime], self.processes[runtime])
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        stop_processes(list(self.processes.values()))
        self.processes.clear()

    def __enter__(self) -> LocalCafe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def local_env() -> dict[str, str]:
    """The environment ``make up`` gives the runtimes: the caller's, with a staff token made
    once and kept in var/staff-token (never in the repository)."""
    token = os.environ.get("CAFE_STAFF_TOKEN")
    if not token:
        if not TOKEN_FILE.exists():
            TOKEN_FILE.parent.mkdir(parents=True, exist_ok=True)
            TOKEN_FILE.write_text(secrets.token_urlsafe(24))
            TOKEN_FILE.chmod(0o600)
        token = TOKEN_FILE.read_text().strip()
    return {
        "CAFE_STORE": os.environ.get("CAFE_STORE", "sqlite"),
        "CAFE_SQLITE_PATH": os.environ.get("CAFE_SQLITE_PATH", str(ROOT / "var" / "cafe.sqlite3")),
        "CAFE_STAFF_TOKEN": token,
    }


def up() -> int:
    state = STATE_DIR / "up.json"
    if state.exists():
        print(f"already up (see {state}); run `make down` first", file=sys.stderr)
        return 1
    cafe = LocalCafe(env=local_env()).start()
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({runtime: p.pid for runtime, p in cafe.processes.items()}))
    for runtime, url in cafe.urls.items():
        print(f"{runtime:8} {url}   log: {LOG_DIR / (runtime + '.log')}")
    print(f"store: {cafe.env['CAFE_STORE']} {cafe.env.get('CAFE_SQLITE_PATH', '')}")
    print(f"staff token: in {TOKEN_FILE} (or $CAFE_STAFF_TOKEN)")
    return 0


def down() -> int:
    state = STATE_DIR / "up.json"
    if not state.exists():
        print("nothing to stop")
        return 0
    groups = {runtime: int(pid) for runtime, pid in json.loads(state.read_text()).items()}
    stop_groups(list(groups.values()))
    for runtime, pid in groups.items():
        print(f"stopped {runtime} (process group {pid})")
    state.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down"])
    args = parser.parse_args(argv)
    return up() if args.command == "up" else down()


if __name__ == "__main__":
    sys.exit(main())
