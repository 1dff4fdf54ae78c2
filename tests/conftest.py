"""Fixtures shared by every test layer.

``live_cafe`` starts the three real runtime processes (the commands of compare/local/runtimes.py,
which `make run-*` runs too) on free ports against one fresh SQLite file; the live and browser
tests use it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

# The in-process adapters build their API at import; give them a store that needs nothing.
os.environ.setdefault("CAFE_STORE", "memory")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from devtools.local import RUNTIMES, LocalCafe, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def live_cafe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCafe]:
    workdir = tmp_path_factory.mktemp("live-cafe")
    env = {
        "CAFE_STORE": "sqlite",
        "CAFE_SQLITE_PATH": str(workdir / "cafe.sqlite3"),
        "CAFE_STAFF_TOKEN": secrets.token_urlsafe(24),
    }
    cafe = LocalCafe(env=env, ports={runtime: free_port() for runtime in RUNTIMES}, log_dir=workdir / "logs")
    with cafe:
        yield cafe
