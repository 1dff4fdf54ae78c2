"""Where a census came from: the command, the browser and Playwright that ran it, the code, the day."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from importlib.metadata import version

from compare.census import ROOT


def git_revision() -> str:
    """The short commit, with ``+dirty`` when the working tree has changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True, timeout=30
        ).stdout.strip()

    try:
        sha = git("rev-parse", "--short", "HEAD")
        dirty = bool(git("status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}+dirty" if dirty else sha


def provenance(browser_version: str) -> dict[str, str]:
    return {
        "command": "make census",
        "browser": f"Chromium {browser_version}",
        "playwright": version("playwright"),
        "git_revision": git_revision(),
        "date": datetime.now(UTC).date().isoformat(),
    }
