"""The deployed path's bounds: which one a runtime hit, from evidence, and what would raise it.

A rate step on the deployed path (the runtime in its envelope, DynamoDB delayed as modeled) that
fails the SLO was limited by one of four things, judged in this order:

- "generator": a rate above what the generator proved it can send (its headroom check);
- "store": the delayed DynamoDB (moto) fell behind its draws, or answered 503 store_busy;
- "cpu": the server's CPU near its quota (the cgroup envelope, and never above this machine's cores);
- "concurrency": the requests in flight at the server's concurrency limit (EC2: gunicorn workers ×
  threads; Fargate: workers × the thread pool its DynamoDB calls run in; Lambda: the emulator's
  environments, or throttles), while its CPU had room;
- "generator" again where neither bound was reached but the generator sent late (its send lag).

In flight is what the store saw: the most DynamoDB calls at once from the runtime. Each request
makes its calls one after another, so that is a lower bound on the requests the server held at once.
Where no evidence reaches its limit, the nearest bound is named and the reason says so.
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Mapping
from dataclasses import dataclass

from compare.load.capacity import GENERATOR_LAG_MS
from compare.local.runtimes import ROOT

BOUNDS = ("cpu", "concurrency", "store", "generator")
CPU_NEAR = 0.85  # CPU at or above this share of its quota is "at the quota"
# In flight (as the store saw it) at or above this share of the limit is "at the limit": a request
# spends part of its time outside its DynamoDB calls, so the store sees fewer than the server holds.
IN_FLIGHT_NEAR = 0.75
# The store's lateness is what limited a step when it is at least this share of the step's p99.
STORE_MATERIAL = 0.1
# starlette's run_in_threadpool runs on anyio's default thread limiter: 40 tokens per process
# (anyio documentation, "Working with threads": the default limiter's total_tokens).
ANYIO_THREADS = 40


@dataclass(frozen=True)
class Concurrency:
    """How many requests a runtime serves at once, and from what."""

    limit: int
    basis: str


def gunicorn_settings(path: str | os.PathLike[str] | None = None) -> dict[str, object]:
    """The EC2 unit's gunicorn settings, read from its own config (ec2/gunicorn.conf.py)."""
    return dict(runpy.run_path(str(path or ROOT / "ec2" / "gunicorn.conf.py")))


def concurrency(
    runtime: str, workers: int | None, lambda_concurrency: int, settings: Mapping[str, object] | None = None
) -> Concurrency:
    """The server's concurrency limit as it runs here (and deployed)."""
    if runtime == "lambda":
        return Concurrency(
            lambda_concurrency, f"{lambda_concurrency} execution environments (the emulator's concurrency)"
        )
    if runtime == "fargate":
        n = workers or 1
        return Concurrency(
            n * ANYIO_THREADS,
            f"{n} uvicorn worker(s) × {ANYIO_THREADS} threads (anyio's default pool, where "
            "run_in_threadpool sends each request's store calls)",
        )
    if runtime == "ec2":
        conf = dict(settings) if settings is not None else gunicorn_settings()
        n = workers or int(str(conf.get("workers", 1)))
        if conf.get("worker_class") == "gthread":
            threads = int(str(conf.get("threads", 1)))
            return Concurrency(n * threads, f"gunicorn {n} gthread workers × {threads} threads")
        return Concurrency(
            n * ANYIO_THREADS,
            f"gunicorn {n} workers ({conf.get('worker_class')}) × {ANYIO_THREADS} threads (the shared "
            "ASGI adapter sends each request to run_in_threadpool: anyio's default pool)",
        )
    raise ValueError(f"unknown runtime {runtime!r}")


def cpu_quota(runtime: str, vcpu: float | None, lambda_concurrency: int, cores: int | None = None) -> float:
    """The CPU the server can use here: its envelope (Lambda: per environment × environments),
    never more than this machine's cores."""
    machine = float(cores or os.cpu_count() or 1)
    if vcpu is None:
        return machine
    total = vcpu * lambda_concurrency if runtime == "lambda" else vcpu
    return min(total, machine)


@dataclass(frozen=True)
class Evidence:
    """What a failing step shows: the generator's lag, the store, CPU and requests in flight."""

    send_lag_p99_ms: float
    store_kept_up: bool | None
    store_busy: bool  # 503 store_busy answers only
    cpu_vcpu: float | None
    cpu_quota_vcpu: float
    in_flight_max: int
    concurrency_limit: int
    throttles: int = 0
    generator_flagged: bool = False  # a rate above what the generator proved it can send
    p99_ms: float = 0.0  # the step's p99
    store_lateness_p99_ms: float = 0.0  # moto's time beyond its draws, p99


def classify(e: Evidence) -> tuple[str, str]:
    """(limited_by, the evidence in words) for a failing step.

    A rate above what the generator proved it can send is the generator's; throttles (no Lambda
    environment free within the limit) are concurrency; a store that fell behind its draws by a
    material part of the step's p99 (or answered 503 store_busy) is the store's; then the runtime's
    own bounds, CPU first (a CPU-bound server also fills its threads); a generator that sent late
    while neither bound was reached is the generator's; otherwise the nearer bound, said so.
    """
    lag = f"the load generator sent late (send lag p99 {e.send_lag_p99_ms:.0f} ms)"
    if e.generator_flagged:
        return "generator", f"a rate above what the generator proved it can send; {lag}"
    cpu_share = (e.cpu_vcpu or 0.0) / e.cpu_quota_vcpu if e.cpu_quota_vcpu else 0.0
    flight_share = e.in_flight_max / e.concurrency_limit if e.concurrency_limit else 0.0
    cpu_text = (
        f"CPU {e.cpu_vcpu:.2f} of {e.cpu_quota_vcpu:.2f} vCPU ({100 * cpu_share:.0f} %)"
        if e.cpu_vcpu is not None
        else "CPU not read"
    )
    flight_text = f"{e.in_flight_max} of {e.concurrency_limit} requests in flight"
    if e.throttles > 0:
        return "concurrency", f"{e.throttles} throttled (no environment free within the limit), {flight_text}"
    store_late = e.store_kept_up is False and e.store_lateness_p99_ms >= STORE_MATERIAL * e.p99_ms
    if store_late or e.store_busy:
        what = (
            "answered 503 store_busy"
            if e.store_busy
            else f"fell behind its drawn delays (lateness p99 {e.store_lateness_p99_ms:.0f} ms)"
        )
        return (
            "store",
            f"the delayed DynamoDB (moto, outside the envelope) {what} (also: {cpu_text}, {flight_text})",
        )
    if e.store_kept_up is False:
        flight_text += (
            f"; the store late by {e.store_lateness_p99_ms:.0f} ms at p99, too little to explain it"
        )
    if cpu_share >= CPU_NEAR:
        return "cpu", f"{cpu_text}: at its quota ({flight_text})"
    if flight_share >= IN_FLIGHT_NEAR:
        return "concurrency", f"{flight_text} while {cpu_text}"
    if e.send_lag_p99_ms > GENERATOR_LAG_MS:
        return "generator", f"{lag}, while {cpu_text} and {flight_text}"
    nearest = "cpu" if cpu_share >= flight_share else "concurrency"
    return nearest, f"neither at its limit ({cpu_text}; {flight_text}): the nearer one named"


def raise_by(runtime: str, limited_by: str | None, limit: Concurrency, vcpu: float | None) -> str:
    """What would raise the bound a runtime hit, on AWS."""
    if limited_by == "generator":
        return "not the runtime: more generator processes or a machine with more cores"
    if limited_by == "store":
        return (
            "not the runtime: the local store fell behind (on AWS DynamoDB on-demand scales its "
            "partitions); a faster machine for moto, or fewer steps"
        )
    if limited_by == "cpu":
        if runtime == "lambda":
            return "more memory per function (CPU is allotted in proportion, 1 vCPU per 1,769 MB)"
        if runtime == "fargate":
            return f"a larger task (Cpu units; {vcpu:g} vCPU now) or more tasks (target tracking)"
        return f"a larger instance type ({vcpu:g} vCPU now) or more instances behind the ALB"
    if limited_by == "concurrency":
        if runtime == "lambda":
            return (
                f"more concurrency: a reserved concurrency or account quota above {limit.limit} "
                "environments (the account default is 1,000)"
            )
        if runtime == "fargate":
            return (
                f"a larger thread pool than {ANYIO_THREADS} or more workers (WEB_CONCURRENCY); "
                f"now {limit.basis}"
            )
        return (
            f"more workers (WEB_CONCURRENCY) or threads per worker (ec2/gunicorn.conf.py); now {limit.basis}"
        )
    return "no step failed: the bound lies above the highest step"


def settings_advice(
    runtime: str,
    limited_by: str | None,
    cpu_share: float | None,
    limit: Concurrency,
    capacity_rps: float | None,
) -> str:
    """Would another thread or worker count serve more on the same unit (so more per dollar: the
    unit's price does not change with its threads)? Judged from the bound the failing step hit."""
    if runtime == "lambda":
        return (
            "Lambda has no thread or worker count: each environment serves one request at a time, and "
            "the price is per request and GB-second, so more environments cost nothing more per request; "
            "memory buys CPU at a proportional price"
        )
    cpu = "CPU not read" if cpu_share is None else f"CPU at {100 * cpu_share:.0f} % of its quota"
    if limited_by == "cpu":
        return (
            f"no other count serves more per dollar on this unit: its CPU was the bound ({cpu}) while "
            f"{limit.basis} had room, so more threads would queue on the same vCPU and more workers "
            "would add their memory for no CPU; it keeps its setting"
        )
    if limited_by == "concurrency" and cpu_share is not None and cpu_share > 0 and capacity_rps:
        reach = capacity_rps * min(CPU_NEAR / cpu_share, 4.0)
        return (
            f"yes: its {limit.basis} filled with {cpu}, so more threads or workers would serve up to "
            f"≈ {reach:.0f} req/s on the same unit at the same price (estimated from the step's CPU, "
            "not measured): the unit should take the larger setting"
        )
    if limited_by in ("generator", "store"):
        return (
            f"not shown here: this machine was the bound ({limited_by}), with {cpu} and the unit's "
            f"{limit.basis} not filled, so neither its threads nor its CPU limited it"
        )
    return "not shown here: no step reached the unit's own bound"
