"""Live push benchmark (issue 28, Performance): each runtime that pushes, in its deployed envelope.

Each runtime is started exactly as the comparison starts it (``compare.local.LocalCafe`` with
``RunOptions(envelopes=True)``: Fargate ``python -m fargate.serve``, 1 worker, 0.25 vCPU /
512 MiB; EC2 ``gunicorn -c ec2/gunicorn.conf.py``, 2 uvicorn workers, 2 vCPU / 2 GiB, full
credits; Lambda the local emulator with its WebSocket API and stream poller, 0.29 vCPU / 512 MB
per environment), on its own seeded SQLite file; one runtime at a time. ``GET /live`` names the
transport; the subscribers run in ``--workers`` separate processes
(bench/push_client.py: aiohttp on uvloop), outside the envelope.

1. **Delay with 1,000 subscribers**: the café's mix (``--board-share`` of them watch the pickup
   board, ``--staff`` barista pages watch the queue with the staff token, the rest are customers'
   tracking pages, one per order: most on orders already collected, a page left open, and in
   each round a tracker on each order the round places, opened right after placing it, in place of
   an idle one). Each round makes ``--orders`` placements and the three transitions of each
   (PREPARING, READY, COMPLETED) through the HTTP API, one change every ``--gap-ms``, and matches
   every message received to the change it carries (bench/push_model.py). The delay runs from the
   **server's time stamp of the change** (the order's ``updated_at``, taken just before the
   transaction that commits the change and its feed event; same machine, same clock) to the
   subscriber process's arrival time stamp; the delay from the HTTP answer's arrival is kept too.
   p50/p99 over all deliveries of a round; the result is the median over rounds.
2. **Placement p99 with and without them**: two copies of the runtime run side by side, each in
   its own envelope on its own seeded order book (the second started by bench/push_twin.py), and
   the subscribers connect to one copy per round (A, B, A, …). ``POST /orders`` goes open-loop at
   ``--order-rate`` to both copies at once for ``--order-seconds`` (after 2 s of warm-up; their
   schedules interleaved), each order then moved along by a barista (PREPARING, READY, COMPLETED
   0.5 s apart: the queue stays the size a busy café has); latency from the intended send time.
   The copy without subscribers is "the same run without them", taken at the same moments, so a
   stall from whatever else runs on this shared machine hits both: the ratio of the two p99s per
   round, median over rounds (goal ≤ 1.5). (Taken one after the other instead, the p99 of the same
   run moved from 7 to 276 ms between rounds here.)
3. **5,000 idle subscribers on Fargate** (``--idle``): a fresh task in its 0.25 vCPU / 512 MiB
   envelope; the server's RSS before and after they connect (KiB per connection), how many were
   refused or failed, how many streams ended while held for ``--hold-s`` (longer than the 15 s
   heartbeat); then ``--idle-orders`` orders' changes with all of them connected: did every
   delivery arrive, and how late.

Goals (issue 28): delay p99 ≤ 250 ms with 1,000 subscribers; Fargate holds 5,000; placement
p99 with subscribers ≤ 1.5 × without. Measured here, on a shared machine: not AWS figures.

    .venv/bin/python bench/push.py            # make bench-push
    .venv/bin/python bench/push.py --runtimes fargate --rounds 1 --idle 0   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import platform
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.push_client import raise_open_files, transport_for, worker_main  # noqa: E402
from bench.push_model import Book, Deliveries, attribute, percentile  # noqa: E402
from bench.sample_order import ORDER  # noqa: E402
from compare.local.cafe import LocalCafe  # noqa: E402
from compare.local.processes import free_port  # noqa: E402
from compare.local.runtimes import RunOptions  # noqa: E402

PUSHERS = ("lambda", "fargate", "ec2")
BARISTA = ("PREPARING", "READY", "COMPLETED")
BARISTA_STEP_S = 0.5
WARMUP_S = 2.0
QUIET_S = 1.5  # after a round's last change: what is still in flight arrives
QUEUE_PATH = "/orders?status=PLACED,PREPARING,READY&limit=500"


# -- the machine and the server's processes -----------------------------------------------------
def machine() -> dict[str, Any]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    git = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    memory_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory_kib = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(memory_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "git": git + (" + working tree" if dirty else ""),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_start": os.getloadavg(),
    }


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            tree.setdefault(parent, []).append(int(stat.parent.name))
    return tree


def process_tree(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def tree_rss_kib(root: int) -> int:
    """Resident memory of ``root`` and its descendants (VmRSS, KiB)."""
    total = 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def tree_cpu_s(root: int) -> float:
    total = 0.0
    for pid in process_tree(root):
        with contextlib.suppress(OSError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


# -- the order book: seeded in-process, changed over HTTP ----------------------------------------
def seed_collected(path: Path, token: str, count: int) -> list[str]:
    """``count`` orders placed and collected (the pages left open on them), written straight to
    the SQLite file before the runtime starts; the store opened with room for the run's queue."""
    from cafe.api import CafeApi, Request
    from cafe.domain.menu import load_menu
    from cafe.observability import Telemetry
    from cafe.service import CafeService
    from cafe.stores.sqlite import SQLiteStore

    service = CafeService(SQLiteStore(str(path)), load_menu(), zone=ZoneInfo("Asia/Seoul"))
    api = CafeApi(service, runtime="bench", staff_token=token, telemetry=Telemetry("bench"))

    def call(method: str, where: str, body: Any) -> Any:
        headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
        response = api.handle(Request(method, where, headers, {}, json.dumps(body).encode(), "seed"))
        assert response.status < 300, response.body
        return response.json()

    ids = []
    with open(os.devnull, "w") as devnull, redirect_stdout(devnull):  # each call's metrics lines
        call("PUT", "/store", {"open": True, "max_waiting": 10_000})
        for _ in range(count):
            order = call("POST", "/orders", ORDER)
            for status in BARISTA:
                call("POST", f"/orders/{order['id']}/status", {"status": status})
            ids.append(order["id"])
    return ids


@dataclass
class Http:
    """The café's HTTP API as the benchmark's changes reach it."""

    session: aiohttp.ClientSession
    url: str
    token: str

    async def call(self, method: str, path: str, body: Any = None, staff: bool = False) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if staff else {}
        async with self.session.request(method, self.url + path, json=body, headers=headers) as response:
            return response.status, await response.json(content_type=None)

    async def place(self) -> dict[str, Any]:
        status, order = await self.call("POST", "/orders", ORDER)
        assert status == 201, order
        return dict(order)

    async def advance(self, order_id: str, status: str) -> dict[str, Any]:
        code, order = await self.call("POST", f"/orders/{order_id}/status", {"status": status}, staff=True)
        assert code == 200, order
        return dict(order)


# -- the subscriber processes ----------------------------------------------------------------
@dataclass
class Workers:
    """``count`` subscriber processes; subscriber ``index`` lives in process ``index % count``."""

    count: int
    kind: str
    url: str
    token: str
    pipes: list[Connection] = field(default_factory=list)
    processes: list[Any] = field(default_factory=list)
    subscribers: dict[int, tuple[str, str, int]] = field(default_factory=dict)  # → channel, id, since
    next_index: int = 0

    def start(self) -> Workers:
        context = multiprocessing.get_context("spawn")
        for _ in range(self.count):
            ours, theirs = context.Pipe()
            process = context.Process(target=worker_main, args=(theirs, self.kind, self.url, self.token))
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)
        return self

    def stop(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send({"op": "exit"})
        for process in self.processes:
            process.join(15)
            if process.is_alive():
                process.kill()
                process.join()

    def _call(self, worker: int, command: dict[str, Any]) -> Any:
        self.pipes[worker].send(command)
        return self.pipes[worker].recv()

    async def each(self, command: dict[str, Any]) -> list[Any]:
        return list(
            await asyncio.gather(*(asyncio.to_thread(self._call, w, command) for w in range(self.count)))
        )

    async def subscribe(self, wanted: list[tuple[str, str]], since: int = -1) -> dict[str, Any]:
        """Open subscriptions to ``wanted`` (channel, order id), spread over the processes."""
        shares: list[list[tuple[int, str, str]]] = [[] for _ in range(self.count)]
        for channel, order_id in wanted:
            index, self.next_index = self.next_index, self.next_index + 1
            shares[index % self.count].append((index, channel, order_id))
            self.subscribers[index] = (channel, order_id, since)
        started = time.monotonic()
        answers = await asyncio.gather(
            *(
                asyncio.to_thread(self._call, w, {"op": "subscribe", "subscriptions": share})
                for w, share in enumerate(shares)
                if share
            )
        )
        for answer in answers:
            for index in answer["lost"]:
                self.subscribers.pop(index, None)
        return {
            "connected": sum(a["connected"] for a in answers),
            "retries": sum(a["retries"] for a in answers),
            "refused": sum(a["refused_count"] for a in answers),
            "failed": sum(a["failed_count"] for a in answers),
            "examples": [e for a in answers for e in a["refused"] + a["failed"]][:3],
            "seconds": time.monotonic() - started,
        }

    async def close(self, indices: list[int] | None = None) -> None:
        if indices is None:
            await self.each({"op": "close"})
            self.subscribers.clear()
            return
        shares: list[list[int]] = [[] for _ in range(self.count)]
        for index in indices:
            shares[index % self.count].append(index)
            self.subscribers.pop(index, None)
        await asyncio.gather(
            *(asyncio.to_thread(self._call, w, {"op": "close", "indices": s}) for w, s in enumerate(shares))
        )

    async def status(self) -> dict[str, Any]:
        answers = await self.each({"op": "status"})
        return {key: sum(a[key] for a in answers) for key in ("open", "ended", "messages", "comments")}


def mix(count: int, board_share: float, staff: int, order_ids: list[str]) -> list[tuple[str, str]]:
    """The café's subscribers: a few barista pages, some board watchers, the rest trackers."""
    board = round(count * board_share)
    trackers = count - board - staff
    assert trackers <= len(order_ids), "seed more orders than trackers"
    wanted = [("order", order_id) for order_id in order_ids[:trackers]]
    wanted += [("board", "")] * board + [("queue", "")] * staff
    # Interleaved, so each subscriber process holds the same mix.
    return [wanted[i] for i in sorted(range(len(wanted)), key=lambda i: (i * 7919) % len(wanted))]


# -- the measurements --------------------------------------------------------------------------
async def delay_round(
    http: Http, workers: Workers, server_pid: int, orders: int, gap_ms: int
) -> dict[str, Any]:
    """One round of changes with everyone subscribed: ``orders`` placements and their three
    transitions, one change every ``gap_ms``; every delivery's delay."""
    status, queue = await http.call("GET", QUEUE_PATH, staff=True)
    assert status == 200, queue
    book = Book.from_queue(queue)
    before = await workers.each({"op": "record", "on": True})
    cpu_before, wall_before = tree_cpu_s(server_pid), time.monotonic()
    gap = gap_ms / 1000
    placed = []
    for _ in range(orders):
        order = await http.place()
        book.apply("place", order, time.time())
        placed.append(order)
        await asyncio.sleep(gap)
    # Each customer opens the tracking page of the order just placed; as many idle pages close.
    idle = [i for i, (channel, _, _) in workers.subscribers.items() if channel == "order"][:orders]
    await workers.close(idle)
    opened = await workers.subscribe([("order", o["id"]) for o in placed], since=len(book.changes) - 1)
    assert opened["connected"] == len(placed), opened
    for status_name in BARISTA:
        for order in placed:
            book.apply(status_name, await http.advance(order["id"], status_name), time.time())
            await asyncio.sleep(gap)
    await asyncio.sleep(QUIET_S)
    wall = time.monotonic() - wall_before
    server_cpu = tree_cpu_s(server_pid) - cpu_before
    after = await workers.each({"op": "record", "on": False})
    collected = await workers.each({"op": "collect"})
    records = [r for c in collected for r in c["records"]]
    subscribers = {i: (channel, order_id) for i, (channel, order_id, _) in workers.subscribers.items()}
    since = {i: s for i, (_, _, s) in workers.subscribers.items()}
    found = attribute(book.changes, subscribers, records, since)
    delays = found.all_delays
    return {
        "changes": len(book.changes),
        "deliveries": found.delivered,
        "expected": found.expected,
        "missing": found.missing,
        "duplicates": found.duplicates,
        "out_of_order": found.out_of_order,
        "unmatched": found.unmatched,
        "unmatched_examples": found.examples,
        "p50_ms": 1000 * percentile(delays, 50),
        "p99_ms": 1000 * percentile(delays, 99),
        "max_ms": 1000 * max(delays, default=float("nan")),
        "by_channel": _by_channel(found),
        "after_answer_p50_ms": 1000 * percentile(found.after_answer, 50),
        "after_answer_p99_ms": 1000 * percentile(found.after_answer, 99),
        "server_vcpu": server_cpu / wall,
        "server_cpu_us_per_delivery": 1e6 * server_cpu / found.delivered if found.delivered else math.nan,
        "generator": {
            "cpu_share_max": max(
                (a["cpu_s"] - b["cpu_s"]) / wall for a, b in zip(after, before, strict=True)
            ),
            "loop_lag_p99_ms": 1000 * max(c["lag_p99_s"] for c in collected),
            "loop_lag_max_ms": 1000 * max(c["lag_max_s"] for c in collected),
        },
    }


def _by_channel(found: Deliveries) -> dict[str, dict[str, float]]:
    return {
        channel: {
            "n": len(values),
            "p50_ms": 1000 * percentile(values, 50),
            "p99_ms": 1000 * percentile(values, 99),
        }
        for channel, values in found.delays.items()
    }


async def placements(
    servers: list[Http], rate: float, seconds: float, pids: list[int] | None = None
) -> list[dict[str, Any]]:
    """``POST /orders`` open-loop at ``rate``/s to each of ``servers`` at once (their schedules
    interleaved, a fraction of the interval apart), each order then moved along by the barista;
    per server: latency from the intended send time, p50/p99, errors, its CPU over the run."""
    loop = asyncio.get_running_loop()
    count = round((WARMUP_S + seconds) * rate)
    measured_from = round(WARMUP_S * rate)
    start = loop.time() + 0.05
    latencies: list[list[float]] = [[] for _ in servers]
    errors: list[dict[str, int]] = [{} for _ in servers]  # status → count, measured placements only
    failures: list[list[str]] = [[] for _ in servers]  # the barista's moves that failed

    async def at(moment: float) -> None:
        await asyncio.sleep(max(0.0, moment - loop.time()))

    async def one(k: int, i: int) -> None:
        http = servers[k]
        intended = start + (i + k / len(servers)) / rate
        await at(intended)
        try:
            status, order = await http.call("POST", "/orders", ORDER)
        except aiohttp.ClientError:
            status, order = 0, None
        answered = loop.time()
        if i >= measured_from:
            latencies[k].append(answered - intended)
            if status != 201:
                errors[k][str(status)] = errors[k].get(str(status), 0) + 1
        if status != 201:
            return
        for step, target in enumerate(BARISTA, start=1):
            await at(answered + step * BARISTA_STEP_S)
            try:
                code, _ = await http.call("POST", f"/orders/{order['id']}/status", {"status": target}, True)
            except aiohttp.ClientError:
                code = 0
            if code != 200:
                failures[k].append(f"{target}: {code}")
                return

    cpu_before = [tree_cpu_s(pid) for pid in pids or []]
    wall_before = time.monotonic()
    await asyncio.gather(*(one(k, i) for i in range(count) for k in range(len(servers))))
    wall = time.monotonic() - wall_before
    cpu = [(tree_cpu_s(pid) - before) / wall for pid, before in zip(pids or [], cpu_before, strict=True)]
    return [
        {
            "placed": len(latencies[k]),
            "errors": sum(errors[k].values()),
            "error_statuses": errors[k],
            "barista_errors": len(failures[k]),
            "barista_examples": failures[k][:3],
            "p50_ms": 1000 * percentile(latencies[k], 50),
            "p99_ms": 1000 * percentile(latencies[k], 99),
            "max_ms": 1000 * max(latencies[k], default=float("nan")),
            "server_vcpu": cpu[k] if cpu else math.nan,
        }
        for k in range(len(servers))
    ]


@contextlib.contextmanager
def started(name: str, work: Path, token: str, options: RunOptions) -> Iterator[LocalCafe]:
    env = {
        "CAFE_STORE": "sqlite",
        "CAFE_SQLITE_PATH": str(work / "cafe.sqlite3"),
        "CAFE_STAFF_TOKEN": token,
    }
    cafe = LocalCafe(
        env,
        {name: free_port()},
        work,
        (name,),
        options,
        work / "lambda-functions.log",
    )
    cafe.start()
    try:
        yield cafe
    finally:
        cafe.stop()


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=64), timeout=aiohttp.ClientTimeout(total=30)
    )


def run_options(args: argparse.Namespace) -> RunOptions:
    """The comparison's run options, in the deployed envelopes unless --no-envelopes."""
    return RunOptions(envelopes=not args.no_envelopes, lambda_memory_mb=args.lambda_memory_mb)


@dataclass
class Copy:
    """One copy of the runtime under test: its API, server process, seeded orders, subscribers."""

    label: str
    http: Http
    pid: int
    order_ids: list[str]
    workers: Workers | None = None


@contextlib.contextmanager
def twin(name: str, work: Path, token: str, options: RunOptions) -> Iterator[dict[str, Any]]:
    """A second copy of ``name`` in its own envelope (bench/push_twin.py); its url, pid, envelope."""
    flags = ["1" if options.envelopes else "0", str(options.lambda_memory_mb)]
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "push_twin.py"), name, str(work), *flags],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "BENCH_TWIN_TOKEN": token},
        cwd=ROOT,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the second {name} did not start (exit {process.wait()})")
        yield dict(json.loads(line))
    finally:
        process.stdin.close()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def bench_runtime(name: str, args: argparse.Namespace, token: str) -> dict[str, Any]:
    """Two copies of ``name`` (A here, B from a process of its own), each on its own seeded order
    book. Round by round the subscribers connect to A, then to B, then A…: the delay is measured on
    the copy that holds them, and the placements run on both at once, so the copy without
    subscribers is the same run without them, under the same noise from the rest of the machine."""
    works = [Path(tempfile.mkdtemp(prefix=f"cafe-push-{name}-{label}-")) for label in "ab"]
    trackers = args.subscribers - round(args.subscribers * args.board_share) - args.staff
    seeded = [seed_collected(work / "cafe.sqlite3", token, trackers) for work in works]
    result: dict[str, Any] = {"runtime": name, "rounds": [], "subscribers": args.subscribers}
    copies: list[Copy] = []
    options = run_options(args)
    try:
        with (
            started(name, works[0], token, options) as cafe,
            twin(name, works[1], token, options) as other,
        ):
            result["envelope"] = cafe.envelope(name).__dict__
            result["envelope_b"] = other["envelope"]
            async with _session() as session:
                copies = [
                    Copy("A", Http(session, cafe.urls[name], token), cafe.processes[name].pid, seeded[0]),
                    Copy("B", Http(session, other["url"], token), int(other["pid"]), seeded[1]),
                ]
                for copy in copies:  # each copy names its own URL (Lambda's is absolute)
                    status, live = await copy.http.call("GET", "/live")
                    result["live"] = live
                    found = transport_for(live if status == 200 else {}, copy.http.url, token)
                    if found is None:
                        result["skipped"] = (
                            f"GET /live answers {status} {json.dumps(live)}: nothing pushes here"
                        )
                        return result
                    copy.workers = Workers(args.workers, found.name, found.url, token).start()
                    result["transport"] = found.name
                https, pids = [c.http for c in copies], [c.pid for c in copies]
                # Warm-up, not counted: the same load once (Lambda starts its environments here).
                result["warmup"] = await placements(https, args.order_rate, args.order_seconds / 2, pids)
                _progress(name, -1, "warm-up", result["warmup"][0])
                for number in range(args.rounds):
                    holder, bare = copies[number % 2], copies[1 - number % 2]
                    assert holder.workers is not None
                    entry: dict[str, Any] = {"holder": holder.label}
                    wanted = mix(args.subscribers, args.board_share, args.staff, holder.order_ids)
                    rss_before = tree_rss_kib(holder.pid)
                    entry["connect"] = await holder.workers.subscribe(wanted)
                    entry["rss_kib"] = [rss_before, tree_rss_kib(holder.pid)]
                    _progress(name, number, f"{holder.label} connected", entry["connect"])
                    entry["delay"] = await delay_round(
                        holder.http, holder.workers, holder.pid, args.orders, args.gap_ms
                    )
                    _progress(name, number, f"{holder.label} delay", entry["delay"])
                    pair = await placements(
                        [holder.http, bare.http], args.order_rate, args.order_seconds, [holder.pid, bare.pid]
                    )
                    entry["orders_with"], entry["orders_without"] = pair
                    _progress(name, number, f"orders with ({holder.label})", pair[0])
                    _progress(name, number, f"orders without ({bare.label})", pair[1])
                    entry["held"] = await holder.workers.status()
                    await holder.workers.close()
                    result["rounds"].append(entry)
    finally:
        for copy in copies:
            if copy.workers is not None:
                copy.workers.stop()
        for work in works:
            _clean(work, args.keep)
    return result


def _clean(work: Path, keep: bool) -> None:
    if keep:
        print(f"kept {work} (logs, SQLite file)", file=sys.stderr)
    else:
        shutil.rmtree(work, ignore_errors=True)


async def bench_idle(args: argparse.Namespace, token: str) -> dict[str, Any]:
    """``--idle`` subscribers held by a fresh Fargate task in its envelope."""
    work = Path(tempfile.mkdtemp(prefix="cafe-push-idle-"))
    trackers = args.idle - round(args.idle * args.board_share) - args.staff
    order_ids = seed_collected(work / "cafe.sqlite3", token, trackers)
    result: dict[str, Any] = {"runtime": "fargate", "subscribers": args.idle}
    workers: Workers | None = None
    try:
        with started("fargate", work, token, run_options(args)) as cafe:
            result["envelope"] = cafe.envelope("fargate").__dict__
            server_pid = cafe.processes["fargate"].pid
            async with _session() as session:
                http = Http(session, cafe.urls["fargate"], token)
                _, live = await http.call("GET", "/live")
                transport = transport_for(live, http.url, token)
                assert transport is not None, live
                workers = Workers(args.workers, transport.name, transport.url, token).start()
                # Warm: the same code paths once (a subscription, a change), then the baseline.
                await workers.subscribe([("board", "")])
                await http.advance((await http.place())["id"], "CANCELLED")
                await workers.close()
                await asyncio.sleep(1.0)
                rss_before = tree_rss_kib(server_pid)
                cpu_before = tree_cpu_s(server_pid)
                opened = await workers.subscribe(mix(args.idle, args.board_share, args.staff, order_ids))
                rss_connected = tree_rss_kib(server_pid)
                _progress("fargate", 0, f"{args.idle} idle connected", opened)
                await asyncio.sleep(args.hold_s)
                held = await workers.status()
                cpu_held = tree_cpu_s(server_pid) - cpu_before
                rss_held = tree_rss_kib(server_pid)
                connected = opened["connected"]
                result.update(
                    connect=opened,
                    rss_kib={"before": rss_before, "connected": rss_connected, "held": rss_held},
                    kib_per_connection=(rss_held - rss_before) / connected if connected else None,
                    held_s=args.hold_s,
                    held=held,
                    server_vcpu_while_connecting_and_holding=cpu_held / (opened["seconds"] + args.hold_s),
                    server_alive=cafe.processes["fargate"].poll() is None,
                )
                # Still alive and still pushing: a few orders' changes must reach every subscriber.
                changes = await delay_round(http, workers, server_pid, args.idle_orders, args.gap_ms)
                _progress("fargate", 0, "changes after the hold", changes)
                result.update(
                    changes_after_hold=changes,
                    ended_after_changes=(await workers.status())["ended"],
                    server_alive=cafe.processes["fargate"].poll() is None,
                )
                await workers.close()
    except Exception as error:  # reported with whatever was measured before it
        traceback.print_exc()
        result["failed"] = repr(error)
    finally:
        if workers is not None:
            workers.stop()
        _clean(work, args.keep)
    return result


def _progress(name: str, number: int, what: str, figures: dict[str, Any]) -> None:
    shown = {
        k: (round(v, 1) if isinstance(v, float) else v)
        for k, v in figures.items()
        if not isinstance(v, dict) and not (isinstance(v, list) and len(v) > 3)
    }
    print(f"  {name} round {number + 1}: {what} {shown}", file=sys.stderr, flush=True)


# -- the report --------------------------------------------------------------------------------
def _median(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else float("nan")


def summary(result: dict[str, Any]) -> dict[str, Any]:
    rounds = result["rounds"]
    delay = [r["delay"] for r in rounds]
    ratios = [r["orders_with"]["p99_ms"] / r["orders_without"]["p99_ms"] for r in rounds]
    return {
        "delay_p50_ms": _median([d["p50_ms"] for d in delay]),
        "delay_p99_ms": _median([d["p99_ms"] for d in delay]),
        "delay_p99_rounds": [round(d["p99_ms"], 1) for d in delay],
        "after_answer_p99_ms": _median([d["after_answer_p99_ms"] for d in delay]),
        "deliveries": sum(d["deliveries"] for d in delay),
        "missing": sum(d["missing"] for d in delay),
        "duplicates": sum(d["duplicates"] + d["out_of_order"] for d in delay),
        "unmatched": sum(d["unmatched"] for d in delay),
        "connected": min(r["connect"]["connected"] for r in rounds),
        "refused_or_failed": sum(r["connect"]["refused"] + r["connect"]["failed"] for r in rounds),
        "ended": max(r["held"]["ended"] for r in rounds),
        "connect_s": _median([r["connect"]["seconds"] for r in rounds]),
        # Each copy's first connect only: later ones reuse the memory earlier streams freed.
        "kib_per_connection": statistics.mean(
            (r["rss_kib"][1] - r["rss_kib"][0]) / r["connect"]["connected"] for r in rounds[:2]
        ),
        "server_vcpu": _median([d["server_vcpu"] for d in delay]),
        "cpu_us_per_delivery": _median([d["server_cpu_us_per_delivery"] for d in delay]),
        "orders_without_p50_ms": _median([r["orders_without"]["p50_ms"] for r in rounds]),
        "orders_without_p99_ms": _median([r["orders_without"]["p99_ms"] for r in rounds]),
        "orders_with_p50_ms": _median([r["orders_with"]["p50_ms"] for r in rounds]),
        "orders_with_p99_ms": _median([r["orders_with"]["p99_ms"] for r in rounds]),
        "orders_with_vcpu": _median([r["orders_with"]["server_vcpu"] for r in rounds]),
        "orders_without_vcpu": _median([r["orders_without"]["server_vcpu"] for r in rounds]),
        "order_errors": sum(r["orders_with"]["errors"] + r["orders_without"]["errors"] for r in rounds),
        "ratio": _median(ratios),
        "ratio_rounds": [round(x, 2) for x in ratios],
        "generator_cpu_max": max(d["generator"]["cpu_share_max"] for d in delay),
        "generator_lag_p99_ms": max(d["generator"]["loop_lag_p99_ms"] for d in delay),
        "generator_lag_max_ms": max(d["generator"]["loop_lag_max_ms"] for d in delay),
    }


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(
    info: dict[str, Any], args: argparse.Namespace, results: list[dict[str, Any]], idle: dict[str, Any] | None
) -> str:
    lines = [
        f"machine: {info['nproc']} × {info['cpu_model']}, {info['memory_gib']} GiB, Linux {info['kernel']}, "
        f"Python {info['python']}, aiohttp {info['aiohttp']}; shared (load average at start "
        f"{' / '.join(f'{x:.1f}' for x in info['loadavg_start'])}, at end "
        f"{' / '.join(f'{x:.1f}' for x in info['loadavg_end'])}); {info['date']}, git {info['git']}",
        f"subscribers: {args.subscribers} ({round(args.subscribers * args.board_share)} board, "
        f"{args.staff} queue, the rest order trackers) in {args.workers} client processes; "
        f"{args.rounds} rounds of {args.orders} placements + {3 * args.orders} transitions, "
        f"one change every {args.gap_ms} ms; "
        f"placements at {args.order_rate:g}/s for {args.order_seconds:g} s (+{WARMUP_S:g} s warm-up) "
        f"to two copies of the runtime at once, one holding the subscribers (A, B, A… by round), "
        f"with the barista moving each order on every {BARISTA_STEP_S} s",
        "",
    ]
    measured = [r for r in results if "skipped" not in r]
    if measured:
        lines += [
            "| measured here (local, in the deployed envelope) | "
            + " | ".join(r["runtime"] for r in measured)
            + " |",
            "|---|" + "---|" * len(measured),
        ]
        sums = {r["runtime"]: summary(r) for r in measured}
        envelope = {
            r["runtime"]: f"{r['envelope']['cpu_vcpu']:g} vCPU / {r['envelope']['memory_mb']} MiB"
            + ("" if r["envelope"]["enforced"] else " (NOT enforced)")
            for r in measured
        }

        def row(label: str, cell: Any) -> None:
            lines.append(
                f"| {label} | " + " | ".join(cell(r["runtime"], sums[r["runtime"]]) for r in measured) + " |"
            )

        row(
            "envelope, transport",
            lambda n, s: f"{envelope[n]}, {next(r for r in measured if r['runtime'] == n)['transport']}",
        )
        row(
            f"delay p50 / p99, {args.subscribers} subscribers (ms, median of rounds; goal p99 ≤ 250)",
            lambda n, s: (
                f"{s['delay_p50_ms']:.0f} / **{s['delay_p99_ms']:.0f}** — {met(s['delay_p99_ms'] <= 250)}"
            ),
        )
        row(
            "delay p99 of each round (ms)", lambda n, s: " / ".join(f"{x:.0f}" for x in s["delay_p99_rounds"])
        )
        row(
            "… measured from the HTTP answer instead, p99 (ms)",
            lambda n, s: f"{s['after_answer_p99_ms']:.0f}",
        )
        row(
            "deliveries; missing, duplicate or out of order, unmatched",
            lambda n, s: f"{s['deliveries']}; {s['missing']}, {s['duplicates']}, {s['unmatched']}",
        )
        row(
            "connected (min of rounds); refused or failed; streams ended",
            lambda n, s: f"{s['connected']}; {s['refused_or_failed']}; {s['ended']}",
        )
        row("connecting them took (s, median)", lambda n, s: f"{s['connect_s']:.1f}")
        row(
            "server RSS growth as they first connect (KiB per connection, each copy's first)",
            lambda n, s: (
                "– (API Gateway holds them; environments come and go)"
                if n == "lambda"
                else f"{s['kib_per_connection']:.1f}"
            ),
        )
        row(
            "server CPU during the delay rounds (vCPU, median; Lambda: front + all environments)",
            lambda n, s: f"{s['server_vcpu']:.2f}",
        )
        row("server CPU per delivery (µs, median)", lambda n, s: f"{s['cpu_us_per_delivery']:.0f}")
        row(
            "POST /orders p50 / p99 without subscribers (ms)",
            lambda n, s: f"{s['orders_without_p50_ms']:.1f} / {s['orders_without_p99_ms']:.1f}",
        )
        row(
            f"… with the {args.subscribers} connected, at the same moments (ms)",
            lambda n, s: f"{s['orders_with_p50_ms']:.1f} / {s['orders_with_p99_ms']:.1f}",
        )
        row(
            "server CPU over those runs, with / without (vCPU, median)",
            lambda n, s: f"{s['orders_with_vcpu']:.2f} / {s['orders_without_vcpu']:.2f}",
        )
        row(
            "p99 ratio with ÷ without (median; goal ≤ 1.5)",
            lambda n, s: (
                f"**{s['ratio']:.2f}** ({', '.join(map(str, s['ratio_rounds']))}) — {met(s['ratio'] <= 1.5)}"
            ),
        )
        row("placement errors", lambda n, s: str(s["order_errors"]))
        row(
            "generator: busiest client process CPU; its loop lag p99 / max (ms)",
            lambda n, s: (
                f"{100 * s['generator_cpu_max']:.0f} % of a core; "
                f"{s['generator_lag_p99_ms']:.1f} / {s['generator_lag_max_ms']:.1f}"
            ),
        )
    for r in results:
        if "skipped" in r:
            lines.append(f"\n{r['runtime']}: not measured — {r['skipped']}")
    if idle is not None:
        lines += ["", idle_report(idle)]
    return "\n".join(lines)


def idle_report(idle: dict[str, Any]) -> str:
    if "failed" in idle:
        measured = {k: idle[k] for k in ("connect", "rss_kib", "held", "server_alive") if k in idle}
        return (
            f"fargate, {idle['subscribers']} idle subscribers: **the run failed** — {idle['failed']}; "
            f"measured before that: {json.dumps(measured, default=str)}"
        )
    changes, connect, rss, envelope = (
        idle["changes_after_hold"],
        idle["connect"],
        idle["rss_kib"],
        idle["envelope"],
    )
    held = idle["held"]
    ok = (
        connect["connected"] == idle["subscribers"]
        and held["ended"] == 0
        and idle["ended_after_changes"] == 0
        and changes["missing"] == 0
        and idle["server_alive"]
    )
    return (
        f"fargate, {idle['subscribers']} idle subscribers, {envelope['cpu_vcpu']:g} vCPU / "
        f"{envelope['memory_mb']} MiB{'' if envelope['enforced'] else ' (NOT enforced)'}: "
        f"{connect['connected']} connected in {connect['seconds']:.1f} s, {connect['refused']} refused, "
        f"{connect['failed']} failed; held {idle['held_s']:.0f} s: {held['ended']} streams ended, "
        f"{held['comments']} heartbeats received; server RSS {rss['before'] / 1024:.1f} → "
        f"{rss['held'] / 1024:.1f} MiB = **{idle['kib_per_connection']:.1f} KiB per connection**; "
        f"server CPU {idle['server_vcpu_while_connecting_and_holding']:.2f} vCPU while connecting and "
        f"holding. Then {changes['changes']} changes with all of them connected: "
        f"{changes['deliveries']} of {changes['expected']} deliveries arrived (missing {changes['missing']}, "
        f"streams ended {idle['ended_after_changes']}), delay p50 / p99 {changes['p50_ms']:.0f} / "
        f"{changes['p99_ms']:.0f} ms, server {changes['server_vcpu']:.2f} vCPU; generator loop lag p99 "
        f"{changes['generator']['loop_lag_p99_ms']:.1f} ms. Held: {met(ok)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runtimes", default=",".join(PUSHERS), help="comma-separated (default: all three)")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--board-share", type=float, default=0.14, help="share of board watchers")
    parser.add_argument("--staff", type=int, default=10, help="barista pages watching the queue")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--orders", type=int, default=6, help="placements per round (each moved 3 times)")
    parser.add_argument("--gap-ms", type=int, default=500, help="between two changes of a round")
    parser.add_argument("--order-rate", type=float, default=20.0, help="placements per second")
    parser.add_argument("--order-seconds", type=float, default=10.0)
    parser.add_argument("--idle", type=int, default=5000, help="idle subscribers on Fargate (0: skip)")
    parser.add_argument("--hold-s", type=float, default=20.0, help="how long the idle ones are held")
    parser.add_argument("--idle-orders", type=int, default=4, help="orders changed after the hold")
    parser.add_argument("--workers", type=int, default=2, help="subscriber processes")
    parser.add_argument("--no-envelopes", action="store_true", help="uncapped (the report says so)")
    parser.add_argument(
        "--lambda-memory-mb", type=int, default=RunOptions().lambda_memory_mb, help="every Lambda function's"
    )
    parser.add_argument("--keep", action="store_true", help="keep each runtime's work dir (logs, SQLite)")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    runtimes = [r for r in args.runtimes.split(",") if r]
    before = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    soft, hard = raise_open_files(max(args.subscribers, args.idle) + 1000)
    print(f"open files (ulimit -n): {before} → {soft}, hard limit {hard}", file=sys.stderr)
    info = machine()
    token = secrets.token_urlsafe(24)
    results = []
    for name in runtimes:
        print(f"{name}: ...", file=sys.stderr, flush=True)
        try:
            results.append(asyncio.run(bench_runtime(name, args, token)))
        except Exception as error:  # one runtime's failure is reported, the others still run
            traceback.print_exc()
            results.append({"runtime": name, "skipped": f"the run failed: {error!r}"})
    idle = None
    if args.idle:
        print(f"fargate: {args.idle} idle subscribers ...", file=sys.stderr, flush=True)
        try:
            idle = asyncio.run(bench_idle(args, token))
        except Exception as error:
            traceback.print_exc()
            idle = {"failed": repr(error), "subscribers": args.idle}
    info["loadavg_end"] = os.getloadavg()
    print(report(info, args, results, idle))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "machine": info,
            "args": {k: str(v) for k, v in vars(args).items()},
            "runtimes": results,
            "idle": idle,
        }
        args.json.write_text(json.dumps(document, indent=1, default=str))


if __name__ == "__main__":
    main()
