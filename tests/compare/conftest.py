"""Fixtures for the comparison tool's tests: a fake café server and free ports."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from compare.local.processes import free_port, health_status

__all__ = ["free_port", "wait_for"]

HERE = Path(__file__).resolve().parent


def wait_for(port: int, process: subprocess.Popen[bytes], path: str = "/health", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health_status(port, path) is not None:
            return
        if process.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {process.returncode}")
        time.sleep(0.05)
    raise TimeoutError(f"nothing answered on {port}")


@pytest.fixture
def fake_cafe() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(HERE / "fakecafe.py"), str(port)])
    try:
        wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def warming_cafe() -> Iterator[str]:
    """The fake café behind a front door that answers 500s for its first 2 s of orders."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(HERE / "fakecafe.py"), str(port), "0", "2"])
    try:
        wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
