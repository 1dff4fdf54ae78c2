"""Soak: the café mix at a moderate rate against each local runtime for many minutes.

Starts the three runtimes with ``devtools.local.LocalCafe`` (the Makefile's run-* targets, one
SQLite file) and drives each with compare's open-loop café mix, one minute-long plan after
another, all three at once. Reports, per runtime: resident memory (RSS), open file descriptors
and threads of the runtime's processes at boot, after the warm-up minute, every minute and at
the end; requests, errors and p99 per minute.

Memory counts as flat when RSS grows less than 10 % over the second half of the run. Growth
from the warm-up is reported too, but it mixes a leak with concurrency: a server that holds a
thread (and, here, a SQLite connection with its page cache) per open connection grows when a
slow minute opens more connections, then stays there. A leak keeps growing in the second half.

    python bench/soak.py --minutes 10 --rate 20 [--runtimes lambda,fargate,ec2] [--json out.json]

Exit status 1 when any runtime's memory was not flat or any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from compare.load.http import Http  # noqa: E402
from compare.load.scheduler import run_open_loop  # noqa: E402
from compare.load.workload import CafeContext, build_plan, fetch_menu, load_workload, prepare_store  # noqa: E402
from compare.probes.cpu import descendants  # noqa: E402
from devtools.local import RUNTIMES, LocalCafe, free_port  # noqa: E402

FLAT_GROWTH = 0.10
MINUTE_S = 60.0
# A moderate rate needs few connections; each one is a thread on chalice local's server.
CONNECTIONS = 32
# Close idle connections before the servers do (gunicorn and uvicorn: after 5 s). Otherwise a
# POST sent on a connection the server is closing at that instant fails, and aiohttp rightly
# does not retry a POST: an artefact of the client's pool, not of the runtime under test.
CLIENT_KEEPALIVE_S = 2.0


class SoakHttp(Http):
    """compare's client (the interface run_open_loop drives), with this pool."""

    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base = base_url.rstrip("/")
        connector = aiohttp.TCPConnector(
            limit=CONNECTIONS, limit_per_host=CONNECTIONS, keepalive_timeout=CLIENT_KEEPALIVE_S
        )
        self.session = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_s)
        )


@dataclass(frozen=True)
class Footprint:
    """The runtime's processes: the server it was started as, and its workers or environments."""

    rss_kib: int
    open_fds: int
    processes: int
    threads: int

    def as_dict(self) -> dict[str, int]:
        return {
            "rss_kib": self.rss_kib,
            "open_fds": self.open_fds,
            "processes": self.processes,
            "threads": self.threads,
        }


def _status(pid: int) -> dict[str, int]:
    """VmRSS (KiB) and Threads of a process, from /proc/<pid>/status."""
    found = {"VmRSS": 0, "Threads": 0}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in found:
                found[name] = int(value.split()[0])
    return found


def footprint(root_pid: int) -> Footprint:
    """The runtime's whole process tree: the server it started as, and its workers or environments."""
    rss = fds = count = threads = 0
    for pid in descendants(root_pid):
        try:
            status = _status(pid)
            fds += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:  # exited between the listing and the read
            continue
        rss += status["VmRSS"]
        threads += status["Threads"]
        count += 1
    return Footprint(rss, fds, count, threads)


@dataclass
class Soak:
    runtime: str
    url: str
    root_pid: int
    boot: Footprint
    warm: Footprint | None = None
    end: Footprint | None = None
    minutes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def growth(self) -> float:
        """RSS growth from the end of the warm-up minute to the end."""
        assert self.warm and self.end
        return (self.end.rss_kib - self.warm.rss_kib) / self.warm.rss_kib

    @property
    def second_half_growth(self) -> float:
        """RSS growth from the middle of the run to the end: what a leak cannot hide from."""
        assert self.end
        middle = int(self.minutes[(len(self.minutes) - 1) // 2]["rss_kib_now"])
        return (self.end.rss_kib - middle) / middle

    @property
    def errors(self) -> int:
        return sum(int(minute["errors"]) for minute in self.minutes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "boot": self.boot.as_dict(),
            "warm": self.warm.as_dict() if self.warm else None,
            "end": self.end.as_dict() if self.end else None,
            "rss_growth_after_warmup": round(self.growth, 4),
            "rss_growth_second_half": round(self.second_half_growth, 4),
            "errors": self.errors,
            "minutes": self.minutes,
        }


async def soak_one(soak: Soak, staff_token: str, minutes: int, rate: float) -> None:
    workload = load_workload()
    async with SoakHttp(soak.url) as client:
        await prepare_store(client, staff_token)
        ctx = CafeContext(workload, await fetch_menu(client), staff_token)
        for minute in range(minutes):
            plan = build_plan(ctx, rate, MINUTE_S, seed_offset=minute)
            result = await run_open_loop(client, plan, duration_s=MINUTE_S)
            summary = result.recorder.summary(MINUTE_S)
            soak.minutes.append(
                {
                    "minute": minute + 1,
                    "requests": summary["requests"],
                    "errors": summary["errors"],
                    "errors_by_status": summary["errors_by_status"],
                    "p99_ms": round(summary["latency_ms"].p99, 2),
                    **{f"{key}_now": value for key, value in footprint(soak.root_pid).as_dict().items()},
                }
            )
            if minute == 0:
                soak.warm = footprint(soak.root_pid)
            print(
                f"{soak.runtime:8} minute {minute + 1:2}: {summary['requests']} requests, "
                f"{summary['errors']} errors, p99 {summary['latency_ms'].p99:.1f} ms",
                flush=True,
            )
    soak.end = footprint(soak.root_pid)


def report(soaks: list[Soak], args: argparse.Namespace, started: datetime) -> dict[str, Any]:
    return {
        "measured": "here (local runtimes on this machine), not on AWS",
        "date": started.isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "command": f"python bench/soak.py --minutes {args.minutes} --rate {args.rate:g}",
        "rate_rps_per_runtime": args.rate,
        "runtimes": [soak.as_dict() for soak in soaks],
    }


def print_table(soaks: list[Soak]) -> None:
    print(
        "\nruntime   RSS MiB boot→warm→end   growth (2nd half)   fds boot→warm→end"
        "   requests  errors  p99 ms/minute"
    )
    for soak in soaks:
        assert soak.warm and soak.end
        p99s = " ".join(f"{minute['p99_ms']:.0f}" for minute in soak.minutes)
        requests = sum(int(minute["requests"]) for minute in soak.minutes)
        print(
            f"{soak.runtime:8}  {soak.boot.rss_kib / 1024:5.1f}→{soak.warm.rss_kib / 1024:5.1f}"
            f"→{soak.end.rss_kib / 1024:5.1f}   {soak.growth:+6.1%} ({soak.second_half_growth:+5.1%})   "
            f"{soak.boot.open_fds:3}→{soak.warm.open_fds:3}→{soak.end.open_fds:3}        "
            f"{requests:7}  {soak.errors:6}  {p99s}"
        )


async def run(args: argparse.Namespace) -> int:
    runtimes = tuple(args.runtimes.split(","))
    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="cafe-soak-") as workdir:
        env = {
            "CAFE_STORE": "sqlite",
            "CAFE_SQLITE_PATH": str(Path(workdir) / "cafe.sqlite3"),
            "CAFE_STAFF_TOKEN": secrets.token_urlsafe(24),
        }
        cafe = LocalCafe(
            env=env,
            ports={runtime: free_port() for runtime in runtimes},
            log_dir=Path(workdir) / "logs",
            runtimes=runtimes,
        )
        with cafe:
            time.sleep(1.0)  # let lazily started workers settle before the boot reading
            soaks = [
                Soak(
                    runtime,
                    cafe.urls[runtime],
                    cafe.processes[runtime].pid,
                    footprint(cafe.processes[runtime].pid),
                )
                for runtime in runtimes
            ]
            await asyncio.gather(
                *(soak_one(soak, cafe.staff_token, args.minutes, args.rate) for soak in soaks)
            )
    print_table(soaks)
    document = report(soaks, args, started)
    if args.json:
        Path(args.json).write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    flat = all(soak.second_half_growth < FLAT_GROWTH for soak in soaks)
    print(
        f"\nmemory {'flat' if flat else 'NOT flat'}"
        f" (RSS growth over the second half < {FLAT_GROWTH:.0%} on every runtime)"
    )
    return 0 if flat and not any(soak.errors for soak in soaks) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=int, default=10, help="minutes per runtime (all run at once)")
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second per runtime")
    parser.add_argument("--runtimes", default=",".join(RUNTIMES), help="comma-separated subset")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.minutes < 2:
        parser.error("--minutes must be at least 2 (the first minute is the warm-up)")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
