"""The comparison, start to finish: runtimes up, cold starts, reference run, capacity, report.

Local mode starts the runtimes on one SQLite file in a temp dir (compare.local: the deployed
commands; Lambda through the local emulator), measures, stops them and writes reports/<timestamp>/.
Remote mode drives the same workload against deployed URLs and, for Lambda, reads the REPORT
lines from CloudWatch Logs; for a single EC2 instance it reads launch → healthy from the EC2 API.
Every number is labelled with where it was measured (compare.results).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import aiohttp

from compare.aws_model import load_overheads
from compare.aws_model.overheads import OverheadsError
from compare.cost.prices import PriceError
from compare.cost.profile import ProfileError
from compare.costlink import cost_section
from compare.day.chart import day_chart
from compare.deployed import Evidence, classify, concurrency, cpu_quota, raise_by, settings_advice
from compare.load.capacity import RETRY_OFFSET, Slo, search
from compare.load.causes import not_the_app
from compare.load.headroom import headroom_check
from compare.load.http import Http
from compare.load.settle import SettleConfig, first_minute, settle
from compare.load.workload import (
    CafeContext,
    fetch_menu,
    load_workload,
    prepare_store,
    seed_order,
    workload_record,
)
from compare.local.cafe import LocalCafe
from compare.local.processes import free_port
from compare.local.runtimes import RUNTIMES
from compare.measure import Probe, Round, measure_round, once_more_if_transient, summarize_rounds
from compare.modeled import calls_per_request, day_of, with_day, with_projections
from compare.modes import ModesConfig, measure_modes
from compare.modes.phase import Server as ModesServer
from compare.options import Options
from compare.probes.cloudwatch import lambda_reports_from_cloudwatch
from compare.probes.coldseen import CloudWatchCounter, ColdStartCounter, ReportLogCounter
from compare.probes.coldstart import (
    aws_capacity_ready,
    container_image,
    lambda_cold_starts,
    server_cold_starts,
)
from compare.probes.dynamodb import DynamoEndpoint, moto_dynamodb, round_trips
from compare.probes.dynamodelay import client_hop_ms, read_stats, reset_now, set_delayed, store_check
from compare.probes.ec2boot import ec2_launch_to_healthy, instance_id_of
from compare.probes.machine import provenance
from compare.probes.scaling import scaling_counter
from compare.progress import Ui
from compare.results import (
    LOCAL_LABEL,
    Capacity,
    ColdStarts,
    CpuPerStore,
    DeployedPathResult,
    DeployedStep,
    EmulatorStats,
    FirstMinute,
    GeneratorRecord,
    Headroom,
    NoticeMode,
    RunResults,
    RuntimeResult,
    Settling,
    StoreCheck,
    StoreWindow,
    Window,
    from_json,
    write_results,
)
from compare.sensitivity import for_run as verdict_sensitivity
from compare.targets import remote_label, remote_source

__all__ = ["Driven", "Options", "Ui", "run"]

GENERATOR_GUESS = re.compile(r" — limited by the load generator \(send lag p99 \d+ ms\)")


LATENCY_SIGNAL = "latency and errors"


@dataclass(frozen=True)
class Driven:
    """A target the workload is driven against, and what can be read of its warm-up."""

    name: str
    url: str
    ctx: CafeContext
    probe: Probe
    counter: ColdStartCounter | None = None  # new Lambda cold starts (REPORT lines), where readable
    signal: str = LATENCY_SIGNAL  # what its steadiness is judged on, for the report
    idle: str = ""  # what "idle" meant before its first minute
    throttles: Callable[[], Awaitable[int | None]] | None = None  # the local emulator's counter
    source: str = LOCAL_LABEL


@dataclass(frozen=True)
class Reference:
    """A target's reference window and what came before it."""

    window: Window
    settling: Settling | None = None
    first_minute: FirstMinute | None = None


@dataclass(frozen=True)
class Measured:
    reference: Window
    capacity: Capacity
    settling: Settling | None = None
    first_minute: FirstMinute | None = None


def _settle_plan(opts: Options) -> tuple[float, SettleConfig]:
    """The first minute's length and the settling of this run (the mode's defaults where unset)."""
    o = opts.for_mode(bool(opts.targets))
    interval = float(o.settle_interval_s or 1.0)
    config = SettleConfig(
        ramp_s=float(o.ramp_s or 0.0),
        interval_s=interval,
        stable=o.settle_intervals,
        max_s=float(o.settle_max_s or interval * o.settle_intervals),
    )
    return float(o.first_minute_s or 0.0), config


async def _before(target: Driven, opts: Options, ui: Ui) -> tuple[FirstMinute | None, Settling]:
    """The first minute after idle (its own figure), then ramp and hold until steady."""
    rate = opts.reference_rate
    seconds, config = _settle_plan(opts)
    transient: FirstMinute | None = None
    async with Http(target.url) as client:
        if seconds > 0:
            label = f"{target.name}: first {seconds:g} s after idle, {rate:g} req/s at once"
            with ui.task(label, int(rate * seconds)) as update:
                transient = await first_minute(
                    client,
                    target.ctx,
                    rate,
                    seconds,
                    config.interval_s,
                    target.counter,
                    target.signal,
                    target.idle,
                    throttles=target.throttles,
                    seed_offset=200,
                    on_progress=update,
                    source=target.source,
                )
        label = f"{target.name}: ramp up, hold {rate:g} req/s until steady (≤ {config.max_s:g} s)"
        with ui.task(label, int(rate * config.max_s)) as update:
            settling = await settle(
                client,
                target.ctx,
                rate,
                config,
                target.counter,
                target.signal,
                seed_offset=300,
                on_progress=update,
                source=target.source,
            )
    if not settling.steady:
        ui.note(f"[yellow]{target.name}: not steady after {settling.seconds:.0f} s: {settling.reason}")
    return transient, settling


def _steady(window: Window, settling: Settling | None) -> bool | None:
    """A reference window is steady when the runtime settled before it and nothing but the café
    answered in it (no front-door, outside-the-app or transport error)."""
    if settling is None:
        return None
    return settling.steady and not not_the_app(window.errors_by_cause)


async def _reference_round(
    client: Http, target: Driven, opts: Options, ui: Ui, label: str, index: int, warmup_s: float, attempt: int
) -> Round:
    """Round `index` of the reference window against one target (`attempt` 1: measured again)."""
    per_round_s = opts.reference_s / opts.reference_rounds
    total = int(opts.reference_rate * (warmup_s + per_round_s))
    with ui.task(label + (", measured again" if attempt else ""), total) as update:
        return await measure_round(
            client,
            target.ctx,
            opts.reference_rate,
            warmup_s,
            per_round_s,
            target.probe,
            seed_offset=index + 100 * attempt,
            on_progress=update,
        )


async def _reference(targets: Sequence[Driven], opts: Options, ui: Ui) -> dict[str, Reference]:
    """The reference rate against every target, in rounds taken in turn (A B C A B C …).

    Before its first round each target meets the rate after idle (the first minute, measured as
    its own figure) and is brought to a steady state (ramp, then hold until it stops changing);
    the first round then has a short warm-up, and later rounds one too, since each target sat idle
    while the others ran. The rounds of a target are summarised as one window.
    """
    rounds: dict[str, list[Round]] = {t.name: [] for t in targets}
    before: dict[str, tuple[FirstMinute | None, Settling]] = {}
    remeasured: dict[str, list[str]] = {t.name: [] for t in targets}
    for index in range(opts.reference_rounds):
        warmup_s = opts.reference_warmup_s if index == 0 else opts.round_warmup_s
        for target in targets:
            if index == 0:
                before[target.name] = await _before(target, opts, ui)
            label = f"{target.name}: {opts.reference_rate:g} req/s reference"
            if opts.reference_rounds > 1:
                label += f", round {index + 1}/{opts.reference_rounds}"
            async with Http(target.url) as client:
                one_round = partial(_reference_round, client, target, opts, ui, label, index, warmup_s)
                kept, first_try = await once_more_if_transient(
                    one_round, opts.reference_rate, target.probe, before[target.name][1]
                )
            rounds[target.name].append(kept)
            if first_try:
                ui.note(f"[yellow]{target.name}: reference round {index + 1} was a transient ({first_try})")
                remeasured[target.name].append(f"round {index + 1}: {first_try}")
    out: dict[str, Reference] = {}
    for t in targets:
        transient, settling = before[t.name]
        window = summarize_rounds(rounds[t.name], opts.reference_rate, t.probe)
        window = replace(window, steady=_steady(window, settling), remeasured=tuple(remeasured[t.name]))
        out[t.name] = Reference(window, settling, transient)
    return out


async def _capacity(target: Driven, opts: Options, ui: Ui) -> Capacity:
    """The capacity search against one target."""
    async with Http(target.url) as client:

        async def step(index: int, rate: float) -> Window:
            with ui.task(
                f"{target.name}: capacity step {rate:g} req/s", int(rate * (opts.warmup_s + opts.step_s))
            ) as update:
                measured = await measure_round(
                    client,
                    target.ctx,
                    rate,
                    opts.warmup_s,
                    opts.step_s,
                    target.probe,
                    seed_offset=100 + index,
                    on_progress=update,
                )
            return summarize_rounds([measured], rate, target.probe)

        return await search(opts.rates, step, Slo(p99_ms=opts.slo().p99_ms))


async def _drive(targets: Sequence[Driven], opts: Options, ui: Ui) -> dict[str, Measured]:
    """Reference rounds across all targets (each settled first), then each target's capacity search."""
    references = await _reference(targets, opts, ui)
    measured: dict[str, Measured] = {}
    for t in targets:
        ref = references[t.name]
        measured[t.name] = Measured(ref.window, await _capacity(t, opts, ui), ref.settling, ref.first_minute)
    return measured


async def _context(url: str, token: str | None, opts: Options) -> CafeContext:
    workload = load_workload(opts.workload, opts.cost_profile)
    async with Http(url) as client:
        if token:
            await prepare_store(client, token)
        menu = await fetch_menu(client)
        ctx = CafeContext(workload, menu, token or "")
        await seed_order(client, ctx)
    return ctx


def _emulator_throttles(url: str) -> Callable[[], Awaitable[int | None]]:
    """The local Lambda's throttle counter (the front door answers a throttle with a 500)."""

    async def read() -> int | None:
        return (await _emulator_stats(url)).throttles

    return read


async def _emulator_stats(url: str) -> EmulatorStats:
    async with Http(url) as client, client.get("/__emulator/stats") as response:
        return from_json(EmulatorStats, await response.json())


async def run_local(
    opts: Options, ui: Ui, generator_limit_rps: float | None = None
) -> tuple[dict[str, RuntimeResult], tuple[StoreCheck, ...]]:
    work = Path(tempfile.mkdtemp(prefix="cafe-compare-"))
    token = secrets.token_urlsafe(24)
    if opts.base_port:
        ports = {name: opts.base_port + RUNTIMES.index(name) for name in opts.runtimes}
    else:
        ports = {name: free_port() for name in opts.runtimes}
    lambda_log = work / "lambda-reports.log"
    store = {
        "CAFE_STORE": "sqlite",
        "CAFE_SQLITE_PATH": str(work / "cafe.sqlite3"),
        "CAFE_STAFF_TOKEN": token,
    }
    cafe = LocalCafe(store, ports, work, tuple(opts.runtimes), opts.run_options, lambda_log)
    finished = False
    try:
        with ui.task("starting runtimes", len(opts.runtimes)) as update:
            cafe.start(on_started=update)
        urls = cafe.urls
        ctx = await _context(urls[opts.runtimes[0]], token, opts)
        # Cold starts first, on a quiet machine.
        cold: dict[str, ColdStarts] = {}
        for name in opts.runtimes:
            with ui.task(f"{name}: {opts.cold_starts} cold starts", opts.cold_starts) as update:
                if name == "lambda":
                    cold[name] = lambda_cold_starts(ports[name], opts.cold_starts)
                else:
                    spec = cafe.spec(name, port=free_port())
                    cold[name] = server_cold_starts(
                        spec, cafe.env, opts.cold_starts, work, update, group=cafe.group(name)
                    )
        targets = [
            Driven(
                name,
                urls[name],
                ctx,
                Probe(pid=cafe.processes[name].pid, report_log=lambda_log if name == "lambda" else None),
                counter=ReportLogCounter(lambda_log) if name == "lambda" else None,
                signal=LATENCY_SIGNAL
                + ("" if name == "lambda" else " (a fixed set of processes here: nothing scales)"),
                idle="started for this run, no traffic since its cold-start probe"
                + (
                    "; the run's set-up (open the store, read the menu, place one order) went to it"
                    if name == opts.runtimes[0]
                    else ""
                ),
                throttles=_emulator_throttles(urls[name]) if name == "lambda" else None,
            )
            for name in opts.runtimes
        ]
        measured = await _drive(targets, opts, ui)
        pids = {name: cafe.processes[name].pid for name in opts.runtimes}
        modes = await _modes(opts, ui, urls, pids, ctx)
        emulator = await _emulator_stats(urls["lambda"]) if "lambda" in urls else None
        envelopes = {name: cafe.envelope(name) for name in opts.runtimes}
        cafe.stop()
        deployed = await _dynamodb_path(opts, ui, work, generator_limit_rps) if opts.dynamodb_path else None
        overheads = load_overheads()
        paths = deployed.paths if deployed else {}
        results = {
            name: RuntimeResult(
                description=cafe.spec(name).description,
                url=urls[name],
                source=LOCAL_LABEL,
                reference=measured[name].reference,
                capacity=replace(
                    measured[name].capacity,
                    deployed_path_rps=paths[name].capacity_rps if name in paths else None,
                ),
                deployed_path=paths.get(name),
                polling=modes[name][0] if name in modes else None,
                push=modes[name][1] if name in modes else None,
                settling=measured[name].settling,
                first_minute=measured[name].first_minute,
                cold_start=cold[name],
                image=container_image() if name == "fargate" else None,
                emulator=emulator if name == "lambda" else None,
                envelope=envelopes[name],
                cpu_ms_per_request=CpuPerStore(
                    sqlite=_cpu_ms(name, measured[name].reference),
                    dynamodb=_cpu_ms(name, deployed.windows[name]) if deployed else None,
                    billed_ms_dynamodb=_billed_warm_ms(deployed.windows[name]) if deployed else None,
                ),
                dynamodb_round_trips=deployed.round_trips if deployed else None,
                aws_capacity_ready=aws_capacity_ready(name, overheads),
            )
            for name in opts.runtimes
        }
        finished = True
    finally:
        cafe.stop()
        if finished:
            shutil.rmtree(work, ignore_errors=True)
        else:
            ui.note(f"[red]run failed; the runtimes' logs are kept in {work}")
    return results, deployed.store_checks if deployed else ()


async def _modes(
    opts: Options, ui: Ui, urls: Mapping[str, str], pids: Mapping[str, int | None], ctx: CafeContext
) -> dict[str, tuple[NoticeMode, NoticeMode | None]]:
    """Push against polling on each runtime in turn (compare.modes), after the latency windows."""
    if not opts.modes:
        return {}
    config = ModesConfig(opts.modes_trackers, opts.modes_change_rate, opts.modes_s, opts.modes_subscribers)
    found: dict[str, tuple[NoticeMode, NoticeMode | None]] = {}
    body = ctx.order_body(random.Random(ctx.workload.seed))  # noqa: S311 - repeatable
    for name, url in urls.items():
        label = f"{name}: screens by polling, then by push ({opts.modes_subscribers} subscribers at the end)"
        with ui.task(label, 1):
            server = ModesServer(
                url, pids.get(name), ctx.staff_token, body, connections_in_root=name == "lambda"
            )
            try:
                found[name] = await measure_modes(server, config)
            except (OSError, aiohttp.ClientError, RuntimeError, KeyError, ValueError) as error:
                # A target that cannot take part (refuses the tracked orders, has no status API)
                # loses this section, not the run.
                ui.note(f"[yellow]{name}: push against polling not measured: {error!r}")
    return found


@dataclass(frozen=True)
class DeployedPath:
    """The runtimes measured again on DynamoDB (moto), and the round trips each operation makes."""

    windows: Mapping[str, Window]
    round_trips: Mapping[str, int]
    paths: Mapping[str, DeployedPathResult]
    store_checks: tuple[StoreCheck, ...] = ()


def _cpu_ms(name: str, window: Window | None) -> float | None:
    """Server CPU per request: the server tree; for the local Lambda its environments only (the
    front stands for API Gateway, which the function's bill does not include)."""
    if window is None or window.server_cpu is None:
        return None
    per = window.server_cpu.ms_per_request
    return round(per.children if name == "lambda" else per.total, 3)


def _billed_warm_ms(window: Window | None) -> float | None:
    if window is None or window.lambda_reports is None:
        return None
    return window.lambda_reports.billed_warm_ms.median


async def _dynamodb_path(
    opts: Options, ui: Ui, work: Path, generator_limit_rps: float | None = None
) -> DeployedPath:
    """The runtimes on DynamoDB (a moto server outside the envelopes): CPU per request at a low rate,
    one round each, with moto answering as it does; then, with every call delayed as modeled, the
    store's own throughput and each runtime's deployed path (reference rate, capacity search)."""
    windows: dict[str, Window] = {}
    paths: dict[str, DeployedPathResult] = {}
    checks: tuple[StoreCheck, ...] = ()
    log = work / "lambda-dynamodb.log"
    with moto_dynamodb(work / "moto", delayed=opts.deployed_path) as endpoint:
        if endpoint.delayed:
            await set_delayed(endpoint.url, False)  # CPU and round trips: moto as it answers
        with ui.task("DynamoDB round trips per operation", 1):
            trips = round_trips(endpoint)
        token = secrets.token_urlsafe(24)
        env = {**endpoint.store_env(), "CAFE_STAFF_TOKEN": token}
        ports = {name: free_port() for name in opts.runtimes}
        cafe = LocalCafe(env, ports, work / "dynamodb", tuple(opts.runtimes), opts.run_options, log)
        try:
            with ui.task("starting runtimes on DynamoDB", len(opts.runtimes)) as update:
                cafe.start(on_started=update)
            ctx = await _context(cafe.urls[opts.runtimes[0]], token, opts)
            for name in opts.runtimes:
                probe = Probe(pid=cafe.processes[name].pid, report_log=log if name == "lambda" else None)
                total = int(opts.dynamodb_rate * (opts.round_warmup_s + opts.dynamodb_s))
                async with Http(cafe.urls[name]) as client:
                    with ui.task(f"{name}: DynamoDB path, {opts.dynamodb_rate:g} req/s", total) as update:
                        measured = await measure_round(
                            client,
                            ctx,
                            opts.dynamodb_rate,
                            opts.round_warmup_s,
                            opts.dynamodb_s,
                            probe,
                            seed_offset=50,
                            on_progress=update,
                        )
                windows[name] = summarize_rounds([measured], opts.dynamodb_rate, probe)
            if endpoint.delayed:
                await set_delayed(endpoint.url, True)
                checks = await _store_checks(endpoint, opts, ctx, ui)
                with ui.task("delayed DynamoDB: the hop a boto3 client makes beyond its hold", 1):
                    hop = await asyncio.to_thread(client_hop_ms, endpoint.url, endpoint.table)
                await set_delayed(endpoint.url, True, hop_ms=hop)
                for name in opts.runtimes:
                    probe = Probe(pid=cafe.processes[name].pid, report_log=log if name == "lambda" else None)
                    found = await _deployed_runtime(
                        name, cafe, ctx, probe, endpoint, opts, ui, generator_limit_rps
                    )
                    paths[name] = replace(found, hop_ms=round(hop, 3))
        finally:
            cafe.stop()
    return DeployedPath(windows, trips, paths, checks)


async def _store_checks(
    endpoint: DynamoEndpoint, opts: Options, ctx: CafeContext, ui: Ui
) -> tuple[StoreCheck, ...]:
    """The delayed store's own throughput before any runtime meets it: the DynamoDB calls of the
    highest deployed step (its requests × calls per request), then of lower steps until one keeps up."""
    mix = workload_record(ctx.workload, opts.reference_rate).by_operation
    per_request = calls_per_request(mix, load_overheads()["dynamodb.round_trips"].value)
    checks: list[StoreCheck] = []
    for rate in sorted(opts.deployed_rates, reverse=True):
        calls = max(1.0, round(rate * per_request, 1))
        with ui.task(f"delayed DynamoDB: its own throughput at {calls:g} calls/s", 1):
            check = await store_check(endpoint.url, endpoint.table, calls, min(opts.deployed_step_s, 2.0))
        checks.append(check)
        if check.kept_up:
            break
    if not checks[0].kept_up:
        ui.note(
            f"[yellow]the delayed DynamoDB reached {checks[0].achieved_calls_rps:g} of "
            f"{checks[0].rate_calls_rps:g} calls/s (lateness p99 {checks[0].store.excess_p99_ms:g} ms): "
            "steps it cannot keep up with are marked limited by the store"
        )
    return tuple(checks)


async def _throttles(name: str, url: str) -> int:
    return (await _emulator_stats(url)).throttles if name == "lambda" else 0


async def _deployed_runtime(
    name: str,
    cafe: LocalCafe,
    ctx: CafeContext,
    probe: Probe,
    endpoint: DynamoEndpoint,
    opts: Options,
    ui: Ui,
    generator_limit_rps: float | None,
) -> DeployedPathResult:
    """One runtime in its envelope against the delayed DynamoDB: the reference rate, then the
    capacity search up `deployed_rates`; the bound the failing step hit, judged from evidence."""
    url = cafe.urls[name]
    envelope = cafe.envelope(name)
    workers = opts.fargate_workers if name == "fargate" else envelope.workers
    limit = concurrency(name, workers, opts.lambda_concurrency)
    quota = cpu_quota(name, envelope.cpu_vcpu if envelope.enforced else None, opts.lambda_concurrency)
    rate = opts.reference_rate
    stores: dict[int, StoreWindow] = {}
    throttled: dict[int, int] = {}
    async with Http(url) as client:
        # Ramp and hold until steady first (bounded, as before the SQLite reference): Lambda needs
        # more environments here than on SQLite, and their starts belong before the window.
        _, config = _settle_plan(opts)
        counter = ReportLogCounter(probe.report_log) if probe.report_log is not None else None
        label = f"{name}: deployed path, ramp up, hold {rate:g} req/s until steady (≤ {config.max_s:g} s)"
        with ui.task(label, int(rate * config.max_s)) as update:
            settling = await settle(
                client, ctx, rate, config, counter, LATENCY_SIGNAL, seed_offset=350, on_progress=update
            )
        warmup = opts.deployed_reference_warmup_s

        def started() -> None:  # the store's window: the measured part only, as the latencies
            reset_now(endpoint.url)

        total = int(rate * (warmup + opts.deployed_reference_s))

        async def reference_round(attempt: int) -> Round:
            label = f"{name}: deployed path (DynamoDB delayed as modeled), {rate:g} req/s"
            with ui.task(label + (", measured again" if attempt else ""), total) as update:
                return await measure_round(
                    client, ctx, rate, warmup, opts.deployed_reference_s, probe, 60 + attempt, update, started
                )

        kept, first_try = await once_more_if_transient(reference_round, rate, probe, settling)
        if first_try:
            ui.note(f"[yellow]{name}: deployed path: the reference window was a transient ({first_try})")
        reference = summarize_rounds([kept], rate, probe)
        remeasured = (f"the first reference window: {first_try}",) if first_try else ()
        reference = replace(reference, steady=_steady(reference, settling), remeasured=remeasured)
        reference_store = await read_stats(endpoint.url)

        async def step(index: int, step_rate: float) -> Window:
            before = await _throttles(name, url)
            label = f"{name}: deployed path, capacity step {step_rate:g} req/s"
            with ui.task(label, int(step_rate * (opts.deployed_warmup_s + opts.deployed_step_s))) as update:
                measured = await measure_round(
                    client,
                    ctx,
                    step_rate,
                    opts.deployed_warmup_s,
                    opts.deployed_step_s,
                    probe,
                    seed_offset=400 + index,
                    on_progress=update,
                    on_measure_start=started,
                )
            stores[index] = await read_stats(endpoint.url)
            throttled[index] = await _throttles(name, url) - before
            return summarize_rounds([measured], step_rate, probe)

        capacity = await search(opts.deployed_rates, step, Slo(p99_ms=opts.slo().p99_ms))
    steps: list[DeployedStep] = []
    for index, s in enumerate(capacity.steps):
        key = index + RETRY_OFFSET if s.first_attempt is not None else index
        store = stores.get(key)
        cpu = s.server_cpu.share_of_one_core if s.server_cpu else None  # cores, the tree
        in_flight = store.in_flight_max if store else 0
        limited_by, reason = None, ""
        if not s.verdict.ok:
            errors = {str(k) for k in s.errors_by_status}
            limited_by, reason = classify(
                Evidence(
                    send_lag_p99_ms=s.send_lag_ms.p99,
                    store_kept_up=store.kept_up if store else None,
                    store_busy=bool(errors) and errors == {"503"},
                    cpu_vcpu=cpu,
                    cpu_quota_vcpu=quota,
                    in_flight_max=in_flight,
                    concurrency_limit=limit.limit,
                    throttles=throttled.get(key, 0),
                    generator_flagged=generator_limit_rps is not None
                    and s.target_rate_rps > generator_limit_rps,
                    p99_ms=s.latency_ms.p99,
                    store_lateness_p99_ms=store.excess_p99_ms if store else 0.0,
                )
            )
        steps.append(
            DeployedStep(
                rate_rps=s.target_rate_rps,
                ok=s.verdict.ok,
                # The capacity search's own guess at the cause is left out: `limited_by` judges it here.
                verdict=GENERATOR_GUESS.sub("", s.verdict.reason),
                throughput_rps=round(s.throughput_rps, 1),
                p50_ms=s.latency_ms.p50,
                p99_ms=s.latency_ms.p99,
                errors=s.errors,
                cpu_vcpu=None if cpu is None else round(cpu, 3),
                in_flight_max=in_flight,
                store=store,
                send_lag_p99_ms=s.send_lag_ms.p99,
                limited_by=limited_by,
                reason=reason,
            )
        )
    failing = next((st for st in steps if not st.ok), None)
    limited_by = failing.limited_by if failing else None
    windows = [reference_store, *(st.store for st in steps if st.store is not None)]
    if failing is None:
        reason = f"every step passed up to {opts.deployed_rates[-1]:g} req/s"
    else:
        reason = f"at {failing.rate_rps:g} req/s: {failing.verdict}; {failing.reason}"
    if not settling.steady:
        reason += f" (the reference rate was not steady after {settling.seconds:.0f} s: {settling.reason})"
    elif first_try:
        second = "steady and is the figure" if reference.steady else "not steady either"
        reason += f" (the first reference window was a transient, {first_try}; measured again: {second})"
    return DeployedPathResult(
        capacity_rps=capacity.sustainable_rps,
        limited_by=limited_by,
        p50_ms=reference.latency_ms.p50,
        p99_ms=reference.latency_ms.p99,
        in_flight_max=max(w.in_flight_max for w in windows),
        store_kept_up=all(w.kept_up for w in windows),
        limit_found=failing is not None,
        reason=reason,
        raise_by=raise_by(name, limited_by, limit, envelope.cpu_vcpu),
        settings=settings_advice(
            name,
            limited_by,
            None if failing is None or failing.cpu_vcpu is None or not quota else failing.cpu_vcpu / quota,
            limit,
            capacity.sustainable_rps,
        ),
        concurrency_limit=limit.limit,
        concurrency_basis=limit.basis,
        cpu_quota_vcpu=round(quota, 3),
        reference_rps=rate,
        steady=bool(reference.steady),
        reference=reference,
        reference_store=reference_store,
        steps=tuple(steps),
    )


async def run_remote(opts: Options, ui: Ui) -> dict[str, RuntimeResult]:
    targets: list[Driven] = []
    for target in opts.targets:
        ctx = await _context(target.url, opts.staff_token, opts)
        if not opts.staff_token:
            ui.note(f"[yellow]{target.name}: no staff token: the barista rounds will be refused (401)")
        log_group = opts.lambda_log_group or target.log_group if target.name == "lambda" else None
        region = opts.region or target.region
        counter: ColdStartCounter | None
        if target.name == "lambda":
            counter = CloudWatchCounter(log_group, region) if log_group else None
            signal = LATENCY_SIGNAL + ("" if counter else " (no REPORT lines: no Lambda log group given)")
        else:
            counter = scaling_counter(target.name, target.extra, region)
            signal = LATENCY_SIGNAL + (
                ""
                if counter
                else " (scaling activity not read: the outputs name no ECS service or Auto Scaling group)"
            )
        idle = (
            "as found before this run (only the set-up requests: open the store, read the menu, "
            "place one order)"
        )
        source = remote_label(target.url)
        targets.append(Driven(target.name, target.url, ctx, Probe(), counter, signal, idle, source=source))
    started_ms = int(time.time() * 1000)
    measured = await _drive(targets, opts, ui)
    modes: dict[str, tuple[NoticeMode, NoticeMode | None]] = {}
    if opts.staff_token:  # the barista's changes need it; without it the run has said so above
        for driven in targets:
            modes |= await _modes(opts, ui, {driven.name: driven.url}, {}, driven.ctx)
    results: dict[str, RuntimeResult] = {}
    for target in opts.targets:
        polling, push = modes.get(target.name, (None, None))
        here = remote_label(target.url)
        polling = replace(polling, source=here) if polling else None
        push = replace(push, source=here) if push else None
        entry = RuntimeResult(
            description=target.url,
            url=target.url,
            source=remote_label(target.url),
            reference=measured[target.name].reference,
            capacity=measured[target.name].capacity,
            settling=measured[target.name].settling,
            first_minute=measured[target.name].first_minute,
            polling=polling,
            push=push,
        )
        if target.name == "lambda" and (log_group := opts.lambda_log_group or target.log_group):
            reports = lambda_reports_from_cloudwatch(log_group, started_ms, opts.region or target.region)
            entry = replace(entry, cloudwatch=reports)
        instance_id = (opts.ec2_instance_id or instance_id_of(target.extra)) if target.name == "ec2" else None
        if instance_id:
            with ui.task("ec2: instance launch → healthy (EC2 API)", 1):
                boot = ec2_launch_to_healthy(instance_id, opts.region or target.region)
            entry = replace(entry, cold_start=ColdStarts(launch_to_healthy=boot))
            if not boot.available:
                ui.note(f"[yellow]ec2: launch → healthy {boot.reason}")
        results[target.name] = entry
    if opts.ec2_instance_id and "ec2" not in results:
        ui.note("[yellow]--ec2-instance-id given but there is no ec2 target; launch → healthy not read")
    return results


def _generator_first(opts: Options, ui: Ui) -> tuple[Headroom | None, GeneratorRecord | None, Options]:
    """Check the generator before anything else, at 2× the highest rate the run would use; rates it
    cannot sustain at twice are dropped from the ladder (and said), so every step is one it can drive."""
    if not opts.headroom:
        return None, None, opts
    highest = max([opts.reference_rate, *opts.rates])
    with ui.task(f"generator headroom at {2 * highest:g} req/s", 1):
        headroom = asyncio.run(headroom_check(2 * highest, opts.headroom_s))
    if headroom.kept_up:
        record = GeneratorRecord(True, 1, highest, headroom.rate_rps)
        return headroom, record, opts
    usable = headroom.achieved_rps / 2
    kept = [rate for rate in opts.rates if rate <= usable]
    dropped = [rate for rate in opts.rates if rate > usable]
    if dropped:
        ui.note(
            f"[yellow]the generator reached {headroom.achieved_rps:.0f} of {headroom.rate_rps:g} req/s: "
            f"steps above {usable:.0f} req/s dropped ({', '.join(f'{r:g}' for r in dropped)})"
        )
    affected = tuple(f"capacity step {rate:g} req/s (not measured)" for rate in dropped)
    record = GeneratorRecord(
        kept_up=opts.reference_rate <= usable and bool(kept),
        processes=1,
        highest_rate_rps=max([opts.reference_rate, *kept]),
        checked_rate_rps=headroom.rate_rps,
        affected=affected,
    )
    return headroom, record, replace(opts, rates=kept or opts.rates[:1])


def _affected(
    record: GeneratorRecord | None, runtimes: Mapping[str, RuntimeResult], opts: Options
) -> GeneratorRecord | None:
    """When the generator did not keep up, every figure measured at a rate above what it proved."""
    if record is None or record.kept_up:
        return record
    limit = (record.checked_rate_rps or 0.0) / 2
    affected = list(record.affected)
    if opts.reference_rate > limit:
        affected.append(f"reference window ({opts.reference_rate:g} req/s) on every runtime")
    for name, entry in runtimes.items():
        if entry.capacity is not None:
            affected += [
                f"{name}: capacity step {step.target_rate_rps:g} req/s"
                for step in entry.capacity.steps
                if step.target_rate_rps > limit
            ]
            if entry.capacity.sustainable_rps is not None and entry.capacity.sustainable_rps > limit:
                affected.append(f"{name}: sustainable rate")
    return replace(record, affected=tuple(dict.fromkeys(affected)))


def run(opts: Options, ui: Ui | None = None) -> tuple[Path, RunResults]:
    """Run the whole comparison, store results.json once and write the report from it."""
    from compare.report import write_report

    ui = ui or Ui()
    started = time.monotonic()
    remote = bool(opts.targets)
    slo = opts.slo()  # the profile's SLO unless one was given; fails before anything is measured
    opts = replace(opts.for_mode(remote), slo_p99_ms=slo.p99_ms)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    with ui.progress:
        headroom, generator, opts = _generator_first(opts, ui)
        checks: tuple[StoreCheck, ...] = ()
        if remote:
            runtimes = asyncio.run(run_remote(opts, ui))
        else:
            limit = None
            if generator is not None and not generator.kept_up and generator.checked_rate_rps:
                limit = generator.checked_rate_rps / 2
            runtimes, checks = asyncio.run(run_local(opts, ui, limit))
        generator = _affected(generator, runtimes, opts)
    workload = load_workload(opts.workload, opts.cost_profile)
    out = opts.out_dir / stamp
    out.mkdir(parents=True, exist_ok=True)
    results = RunResults(
        mode="remote" if remote else "local",
        source=remote_source(opts.targets) if remote else LOCAL_LABEL,
        provenance=provenance(opts.command),
        options=opts.settings(),
        workload=workload_record(workload, opts.reference_rate),
        runtimes=runtimes,
        headroom=headroom,
        generator=generator,
        wall_s=time.monotonic() - started,
        slo=slo,
        store_checks=checks,
    )
    overheads = load_overheads()
    results = with_projections(results, overheads)
    try:
        ui.note(f"a café's day ({opts.cost_profile.stem}): simulating on the three runtimes as deployed")
        day = day_of(results, overheads, opts.cost_profile)
        results = with_day(results, day, day_chart(day, out / "day.png").name)
    except (ProfileError, PriceError, OverheadsError) as exc:
        ui.note(f"[yellow]the day was not simulated: {exc}")
    results = replace(results, cost=cost_section(results, out, opts.cost_profile))
    ui.note("the verdict's assumptions: rerunning the decision at each end of their ranges")
    results = replace(results, verdict=verdict_sensitivity(results, overheads))
    results = replace(results, wall_s=time.monotonic() - started)
    write_results(results, out)
    write_report(results, out)
    return out, results
