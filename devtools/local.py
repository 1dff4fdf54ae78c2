"""`make up` / `make down`: the three runtimes in the background on one SQLite file.

``python -m devtools.local up`` starts them (compare.local.LocalCafe: the same commands the tests
and the comparison run) and returns once all three answer ``/health``; ``down`` stops exactly the
process groups that ``up`` recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys

from compare.local.cafe import LOG_DIR, LocalCafe
from compare.local.processes import free_port, stop_groups, stop_processes, wait_healthy
from compare.local.runtimes import ROOT, RUNTIMES

__all__ = ["RUNTIMES", "LocalCafe", "free_port", "main", "stop_processes", "wait_healthy"]

STATE_DIR = ROOT / "var" / "run"
TOKEN_FILE = ROOT / "var" / "staff-token"


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
