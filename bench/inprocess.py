"""The café's own CPU per request, without a server (issue 14: the ordering core's figures).

Calls the container's ASGI callable (``fargate.app:app``) directly, on a fresh SQLite file, for
``GET /menu`` and ``POST /orders`` (no key), in batches, and reports the process CPU per
request: the minimum, first quartile and median of the batches. No sockets, no HTTP parser, no
load generator share the core, so run-to-run spread is a few per cent where the server-level
ratio of ``bench/throughput.py`` spreads by tens: this is the figure to compare two versions of
the code by (run it in a worktree of each, in turn). The minimum is the cost with no
interruption; the median includes the once-a-second metrics flush and the SQLite checkpoints.
Measured here, not on AWS.

    .venv/bin/python bench/inprocess.py --batches 40
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "shared")]

from bench.sample_order import ORDER  # noqa: E402


def scope_for(method: str, path: str, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8080")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
    }


async def measure(app: Any, method: str, path: str, body: bytes, batches: int, per_batch: int) -> list[float]:
    """CPU µs per request of each batch; every response must be a success."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = scope_for(method, path, body)
    for _ in range(per_batch):  # warm-up: caches, the statement cache, first pages of the file
        await app(scope, receive, send)
    figures = []
    for _ in range(batches):
        started = time.process_time()
        for _ in range(per_batch):
            await app(scope, receive, send)
        figures.append(1e6 * (time.process_time() - started) / per_batch)
    failed = [status for status in statuses if status >= 300]
    if failed:
        sys.exit(f"{method} {path}: {len(failed)} responses were not successes (first: {failed[0]})")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--menu-per-batch", type=int, default=1000)
    parser.add_argument("--orders-per-batch", type=int, default=100)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="cafe-inprocess-")
    os.environ.update(
        CAFE_STORE="sqlite",
        CAFE_SQLITE_PATH=str(Path(workdir) / "cafe.sqlite3"),
        POWERTOOLS_LOG_LEVEL="WARNING",
    )
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the EMF lines the metrics write; not ours to print
    from cafe.domain.settings import StoreSettings
    from fargate.app import app, cafe_api

    # The queue cap would refuse orders part-way through: lift it for the run.
    cafe_api.service.store.put_settings(StoreSettings(open=True, max_waiting=10_000_000))
    runs = {
        "GET /menu": ("GET", "/menu", b"", args.menu_per_batch),
        "POST /orders (SQLite, no key)": (
            "POST",
            "/orders",
            json.dumps(ORDER).encode(),
            args.orders_per_batch,
        ),
    }
    rows = []
    for label, (method, path, body, per_batch) in runs.items():
        figures = sorted(asyncio.run(measure(app, method, path, body, args.batches, per_batch)))
        rows.append(
            f"| {label} | {figures[0]:.1f} | {figures[len(figures) // 4]:.1f} |"
            f" {statistics.median(figures):.1f} | {args.batches} × {per_batch} |"
        )
    cafe_api.telemetry.flush_metrics()  # now, into /dev/null, rather than at exit
    sys.stdout = sys.__stdout__
    print("The café's own CPU per request, in-process through fargate.app:app (measured here):")
    print("| request | min µs | p25 µs | median µs | batches × requests |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
