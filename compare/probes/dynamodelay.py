"""A DynamoDB that answers like AWS, locally: the moto server with every call delayed by a draw
from the per-operation latency the projection uses.

The delays are the overheads file's `dynamodb.<Op>.ms` figures, read through compare.aws_model
(one source for the projection and the emulation). A WSGI middleware around moto's app draws a
delay per request by its `X-Amz-Target` operation, lets moto answer, and holds the answer until
the draw has passed: a call takes max(draw, moto's own time). Each request is served on its own
thread (werkzeug's threaded server, as `moto_server` runs it) and the wait is a sleep outside
moto's work, so concurrent calls wait concurrently, as on AWS; nothing is serialised by the delay.

Whether the store kept up is measured, not assumed: moto's own time per call above the draw is
the store's lateness (`excess`); a window where its p99 passes `KEPT_UP_EXCESS_MS` (or calls came
back later than drawn too often) was limited by the store, not by the runtime. `/__delay/stats`
reports it (and the most calls in flight at once), `/__delay/reset` starts a new window.

Figures measured through it are *measured here (local emulation, DynamoDB delayed as modeled)*:
the delays are the model's, never an AWS measurement.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import numpy as np

from compare.aws_model import Overheads, load_overheads
from compare.aws_model.distributions import Distribution
from compare.aws_model.overheads import OverheadsError
from compare.results import DELAYED_DYNAMODB_LABEL as LABEL
from compare.results import StoreCheck, StoreWindow, from_json

STATS_PATH = "/__delay/stats"
RESET_PATH = "/__delay/reset"
MODE_PATH = "/__delay/mode"  # ?on or ?off: the delays held or not (moto as it answers)
# The store kept up with a window when moto's own time beyond the drawn delay stayed this small at
# p99 (late_share, the calls that came back more than LATE_MS after their draw, is reported too).
KEPT_UP_EXCESS_MS = 10.0
LATE_MS = 2.0
OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "Query", "TransactWriteItems", "BatchGetItem")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def delays_from(overheads: Overheads) -> dict[str, Distribution]:
    """Each DynamoDB operation's latency distribution, as the projection draws it."""
    delays: dict[str, Distribution] = {}
    for op in OPERATIONS:
        try:
            delays[op] = overheads[f"dynamodb.{op}.ms"].distribution()
        except OverheadsError:
            continue
    return delays


def operation(environ: Mapping[str, Any]) -> str:
    """The DynamoDB operation of a request ("" for anything else: moto's own API, health)."""
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    return target.rpartition(".")[2] if target.startswith("DynamoDB_") else ""


@dataclass
class Window:
    """What the store did since the last reset."""

    started: float = field(default_factory=time.monotonic)
    in_flight: int = 0
    in_flight_max: int = 0
    drawn_ms: dict[str, list[float]] = field(default_factory=dict)
    actual_ms: dict[str, list[float]] = field(default_factory=dict)
    excess_ms: list[float] = field(default_factory=list)
    undelayed: dict[str, int] = field(default_factory=dict)


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if values else 0.0


def summary(window: Window) -> dict[str, Any]:
    """A window as JSON: calls, per-operation drawn and actual times, lateness, most in flight."""
    calls = len(window.excess_ms)
    late = sum(1 for e in window.excess_ms if e > LATE_MS)
    excess_p99 = _pct(window.excess_ms, 99)
    seconds = max(time.monotonic() - window.started, 1e-9)
    return {
        "calls": calls,
        "seconds": round(seconds, 3),
        "calls_per_s": round(calls / seconds, 1),
        "in_flight_max": window.in_flight_max,
        "excess_p50_ms": _pct(window.excess_ms, 50),
        "excess_p99_ms": excess_p99,
        "late_share": round(late / calls, 4) if calls else 0.0,
        "kept_up": excess_p99 <= KEPT_UP_EXCESS_MS,
        "by_operation": {
            op: {
                "calls": len(drawn),
                "drawn_p50_ms": _pct(drawn, 50),
                "drawn_p99_ms": _pct(drawn, 99),
                "actual_p50_ms": _pct(window.actual_ms[op], 50),
                "actual_p99_ms": _pct(window.actual_ms[op], 99),
            }
            for op, drawn in sorted(window.drawn_ms.items())
        },
        "undelayed": dict(window.undelayed),
        "source": LABEL,
    }


class DelayedDynamo:
    """WSGI middleware: each DynamoDB call answered no sooner than a draw from its operation's
    distribution; requests without a known operation pass through undelayed (and are counted)."""

    def __init__(
        self,
        app: WsgiApp,
        delays: Mapping[str, Distribution],
        seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.app = app
        self.delays = dict(delays)
        self.sleep = sleep
        self._rng = np.random.default_rng(seed)
        self._lock = threading.Lock()  # the draw and the counters only: never held while waiting
        self.window = Window()
        self.enabled = True
        # Taken off each draw: the hop every call makes to this server beyond what it holds the
        # answer for (HTTP parsing, a thread per request), which AWS's per-call figures do not
        # have. Measured by client_hop_ms and set through MODE_PATH.
        self.hop_ms = 0.0

    def draw_ms(self, op: str) -> float | None:
        dist = self.delays.get(op)
        if dist is None or not self.enabled:
            return None
        with self._lock:
            return float(dist.sample(self._rng, 1)[0])

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path == STATS_PATH:
            with self._lock:
                return _json(start_response, summary(self.window))
        if path == RESET_PATH:
            with self._lock:
                self.window = Window()
            return _json(start_response, {"reset": True})
        if path == MODE_PATH:
            query = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
            self.enabled = "off" not in query
            self.hop_ms = float(query.get("hop_ms", ["0"])[0])
            return _json(start_response, {"delayed": self.enabled, "hop_ms": self.hop_ms})
        op = operation(environ)
        drawn = self.draw_ms(op) if op else None
        # The body is read before moto's time starts: a client held by its CPU quota between its
        # headers and its body must not count as the store's lateness.
        length = int(environ.get("CONTENT_LENGTH") or 0)
        environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(length) if length else b"")
        with self._lock:
            window = self.window
            window.in_flight += 1
            window.in_flight_max = max(window.in_flight_max, window.in_flight)
        began = time.perf_counter()
        try:
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            own_ms = (time.perf_counter() - began) * 1000
            held = None if drawn is None else max(0.0, drawn - self.hop_ms)
            if held is not None and held > own_ms:
                self.sleep((held - own_ms) / 1000)
        finally:
            with self._lock:
                window.in_flight -= 1
        with self._lock:
            if drawn is None:
                if op:
                    window.undelayed[op] = window.undelayed.get(op, 0) + 1
            else:
                assert held is not None
                window.drawn_ms.setdefault(op, []).append(drawn)
                window.actual_ms.setdefault(op, []).append(max(held, own_ms))
                window.excess_ms.append(max(0.0, own_ms - held))
        return [body]


# --- the client side: stats, reset, the store's own throughput ------------------------------

AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-target, Signature=0"
)


def store_window(data: Mapping[str, Any]) -> StoreWindow:
    return from_json(StoreWindow, dict(data))


async def _get(url: str, path: str) -> Any:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url + path) as response:
        return await response.json()


async def read_stats(url: str) -> StoreWindow:
    """What the store did since the last reset."""
    return store_window(await _get(url, STATS_PATH))


async def reset(url: str) -> None:
    await _get(url, RESET_PATH)


def reset_now(url: str) -> None:
    """The same, blocking (from a measured window's start, a millisecond on this machine)."""
    import urllib.request

    with urllib.request.urlopen(url + RESET_PATH, timeout=5) as response:  # noqa: S310 - local http
        response.read()


async def set_delayed(url: str, on: bool, hop_ms: float = 0.0) -> None:
    await _get(url, f"{MODE_PATH}?{'on' if on else 'off'}&hop_ms={hop_ms:.3f}")


async def _open_loop(url: str, table: str, rate: float, seconds: float) -> tuple[list[float], float]:
    """GetItem calls open-loop at `rate`: each one's latency from its intended send time (ms) and
    the wall time they took."""
    import asyncio

    import aiohttp

    body = json.dumps({"TableName": table, "Key": {"pk": {"S": "CHECK"}, "sk": {"S": "CHECK"}}})
    headers = {
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": AUTH,
    }
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def one(intended: float) -> None:
            try:
                async with session.post(url + "/", data=body, headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        latencies.append((loop.time() - intended) * 1000)
            except (aiohttp.ClientError, OSError):
                return

        start = loop.time() + 0.05
        tasks = []
        for index in range(max(1, int(rate * seconds))):
            intended = start + index / rate
            delay = intended - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(loop.create_task(one(intended)))
        await asyncio.gather(*tasks)
        return latencies, max(loop.time() - start, seconds)


def client_hop_ms(url: str, table: str, calls: int = 200) -> float:
    """The hop a runtime's call to this server makes beyond what the server holds it for (loopback,
    werkzeug's parsing and thread), as a boto3 client sees it, less that client's own CPU (which
    the projection counts apart, as the DynamoDB client's CPU): AWS's per-call figures have no such
    hop, so the delayed store takes it off each draw. Sequential GetItem calls with the delays on
    and nothing taken off; the median of (wall − the calling thread's CPU) less the median hold.
    Blocking: call it from a thread."""
    import urllib.request

    from compare.probes.dynamodb import client_for  # that module starts this server: no cycle at import

    client = client_for(url)
    key = {"pk": {"S": "CHECK"}, "sk": {"S": "CHECK"}}
    with urllib.request.urlopen(f"{url}{MODE_PATH}?on&hop_ms=0", timeout=5) as response:  # noqa: S310
        response.read()
    client.get_item(TableName=table, Key=key)  # the connection and the client's first-call set-up
    reset_now(url)
    outside: list[float] = []
    for _ in range(calls):
        wall, cpu = time.perf_counter(), time.thread_time()
        client.get_item(TableName=table, Key=key)
        outside.append((time.perf_counter() - wall - (time.thread_time() - cpu)) * 1000)
    with urllib.request.urlopen(url + STATS_PATH, timeout=5) as response:  # noqa: S310 - local http
        held = store_window(json.loads(response.read())).by_operation["GetItem"].actual_p50_ms
    return max(0.0, float(np.median(outside)) - held)


async def store_check(url: str, table: str, rate: float, seconds: float, warmup_s: float = 0.5) -> StoreCheck:
    """GetItem calls sent open-loop at `rate` for `seconds` (after `warmup_s` not counted): whether
    the delayed store keeps up (delivered ≥ 95 % and its own lateness within bounds), before any
    runtime meets it."""
    if warmup_s > 0:
        await _open_loop(url, table, rate, warmup_s)
    await reset(url)
    latencies, elapsed = await _open_loop(url, table, rate, seconds)
    window = await read_stats(url)
    achieved = len(latencies) / elapsed
    return StoreCheck(
        rate_calls_rps=rate,
        achieved_calls_rps=round(achieved, 1),
        latency_p50_ms=_pct(latencies, 50),
        latency_p99_ms=_pct(latencies, 99),
        store=window,
        kept_up=achieved >= 0.95 * rate and window.kept_up,
    )


def _json(start_response: StartResponse, data: Any) -> list[bytes]:
    body = json.dumps(data).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def main(argv: list[str] | None = None) -> None:
    """`python -m compare.probes.dynamodelay --port P`: moto's server with the delays around it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    from moto.moto_server.threaded_moto_server import MotoRequestHandler  # type: ignore[attr-defined]
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    dispatcher = DomainDispatcherApplication(create_backend_app)
    dynamodb = create_backend_app("dynamodb")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # DynamoDB calls straight to moto's DynamoDB app: its dispatcher looks the service up by
        # host on every request (a quarter of moto's time per call); the rest goes through it.
        if operation(environ):
            return dynamodb(environ, start_response)
        return dispatcher(environ, start_response)  # type: ignore[no-any-return]

    delayed = DelayedDynamo(app, delays_from(load_overheads()), seed=args.seed)
    run_simple(args.host, args.port, delayed, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
