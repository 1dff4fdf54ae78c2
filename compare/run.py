"""The comparison, start to finish: runtimes up, cold starts, reference run, capacity, report.

Local mode starts the three runtimes on one SQLite file in a temp dir (the deployed commands;
Lambda through the local emulator), measures, stops them and writes reports/<timestamp>/.
Remote mode drives the same workload against deployed URLs and, for Lambda, reads the REPORT
lines from CloudWatch Logs; for a single EC2 instance it reads launch → healthy from the EC2 API
(compare/ec2boot.py). Every number is labelled with where it was measured.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from compare.capacity import Slo, search
from compare.cloudwatch import fetch_reports, report_dicts, summarize_reports
from compare.coldstart import container_image, lambda_cold_starts, server_cold_starts
from compare.costlink import BASE_PROFILE
from compare.ec2boot import instance_id_of, launch_to_healthy, not_available
from compare.headroom import headroom_check
from compare.machine import provenance
from compare.measure import Probe, Round, measure_round, summarize_rounds
from compare.procs import Started, free_port, start_process
from compare.runtimes import ROOT, RuntimeSpec, default_specs, full_env, new_staff_token, store_env
from compare.scheduler import Http
from compare.targets import Target
from compare.workload import DEFAULT_WORKLOAD, CafeContext, fetch_menu, load_workload, prepare_store

LOCAL_LABEL = "measured here (local emulation)"
AWS_LABEL = "measured on AWS"
LOCAL_ENDPOINT_LABEL = "measured here (remote mode against a local endpoint)"
MIXED_LABEL = "measured here and on AWS (see each runtime)"


def remote_label(url: str) -> str:
    """A deployed endpoint is measured on AWS; a loopback address is this machine."""
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return LOCAL_ENDPOINT_LABEL if host in ("localhost", "") else AWS_LABEL
    return LOCAL_ENDPOINT_LABEL if address.is_loopback else AWS_LABEL


def remote_source(targets: list[Target]) -> str:
    labels = {remote_label(t.url) for t in targets}
    return labels.pop() if len(labels) == 1 else MIXED_LABEL


@dataclass
class Options:
    rates: list[float] = field(default_factory=lambda: [50, 100, 200, 400, 600, 800, 1200, 1600, 2000])
    step_s: float = 3.0
    warmup_s: float = 1.0
    reference_rate: float = 100.0
    reference_s: float = 8.0
    reference_warmup_s: float = 4.0
    # The reference window is measured in this many rounds, taken in turn across the runtimes.
    reference_rounds: int = 3
    round_warmup_s: float = 1.0
    slo_p99_ms: float = 100.0
    cold_starts: int = 10
    runtimes: list[str] = field(default_factory=lambda: ["lambda", "fargate", "ec2"])
    lambda_concurrency: int = 32
    lambda_memory_mb: int = 512
    fargate_workers: int = 1
    base_port: int = 18001
    workload: Path = DEFAULT_WORKLOAD
    out_dir: Path = ROOT / "reports"
    headroom: bool = True
    headroom_s: float = 3.0
    targets: list[Target] = field(default_factory=list)
    staff_token: str | None = None
    lambda_log_group: str | None = None
    ec2_instance_id: str | None = None
    region: str | None = None
    cost_profile: Path = BASE_PROFILE
    command: str = "make compare"

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out["workload"] = str(self.workload)
        out["out_dir"] = str(self.out_dir)
        out["cost_profile"] = str(self.cost_profile)
        out["targets"] = [{"name": t.name, "url": t.url} for t in self.targets]
        out["staff_token"] = "(set)" if self.staff_token else None
        return out


class Ui:
    """Progress bars and messages (rich); quiet=True for tests."""

    def __init__(self, console: Console | None = None, quiet: bool = False) -> None:
        self.console = console or Console(stderr=True, quiet=quiet)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )

    @contextmanager
    def task(self, description: str, total: float) -> Iterator[Callable[[float], None]]:
        task_id = self.progress.add_task(description, total=total)

        def update(done: float) -> None:
            self.progress.update(task_id, completed=done)

        try:
            yield update
        finally:
            self.progress.update(task_id, completed=total)

    def note(self, text: str) -> None:
        self.progress.console.print(text)


@dataclass(frozen=True)
class Driven:
    """A target the workload is driven against."""

    name: str
    url: str
    ctx: CafeContext
    probe: Probe


async def _reference(targets: Sequence[Driven], opts: Options, ui: Ui) -> dict[str, dict[str, Any]]:
    """The reference rate against every target, in rounds taken in turn (A B C A B C …).

    The first round carries the full warm-up; later rounds a short one, since each target sat
    idle while the others ran. The rounds of a target are summarised as one window.
    """
    rounds: dict[str, list[Round]] = {t.name: [] for t in targets}
    per_round_s = opts.reference_s / opts.reference_rounds
    for index in range(opts.reference_rounds):
        warmup_s = opts.reference_warmup_s if index == 0 else opts.round_warmup_s
        for target in targets:
            label = f"{target.name}: {opts.reference_rate:g} req/s reference"
            if opts.reference_rounds > 1:
                label += f", round {index + 1}/{opts.reference_rounds}"
            total = int(opts.reference_rate * (warmup_s + per_round_s))
            async with Http(target.url) as client:
                with ui.task(label, total) as update:
                    rounds[target.name].append(
                        await measure_round(
                            client,
                            target.ctx,
                            opts.reference_rate,
                            warmup_s,
                            per_round_s,
                            target.probe,
                            seed_offset=index,
                            on_progress=update,
                        )
                    )
    return {t.name: summarize_rounds(rounds[t.name], opts.reference_rate, t.probe) for t in targets}


async def _capacity(target: Driven, opts: Options, ui: Ui) -> dict[str, Any]:
    """The capacity search against one target."""
    async with Http(target.url) as client:

        async def step(index: int, rate: float) -> dict[str, Any]:
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

        return await search(opts.rates, step, Slo(p99_ms=opts.slo_p99_ms))


async def _drive(targets: Sequence[Driven], opts: Options, ui: Ui) -> dict[str, dict[str, Any]]:
    """Reference rounds across all targets, then each target's capacity search."""
    references = await _reference(targets, opts, ui)
    return {
        t.name: {"reference": references[t.name], "capacity": await _capacity(t, opts, ui)} for t in targets
    }


async def _context(url: str, token: str | None, opts: Options) -> CafeContext:
    workload = load_workload(opts.workload)
    async with Http(url) as client:
        if token:
            await prepare_store(client, token)
        menu = await fetch_menu(client)
    return CafeContext(workload, menu, token or "")


def _max_rate_used(runtimes: Mapping[str, Any], opts: Options) -> float:
    rates = [opts.reference_rate]
    for entry in runtimes.values():
        rates.extend(step["target_rate_rps"] for step in entry.get("capacity", {}).get("steps", []))
    return max(rates)


async def run_local(opts: Options, ui: Ui) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="cafe-compare-"))
    token = new_staff_token()
    names = ("lambda", "fargate", "ec2")
    if opts.base_port:
        ports = {name: opts.base_port + i for i, name in enumerate(names)}
    else:
        ports = {name: free_port() for name in names}
    lambda_log = work / "lambda-reports.log"
    specs = default_specs(
        ports, opts.lambda_concurrency, opts.lambda_memory_mb, lambda_log, opts.fargate_workers
    )
    base = store_env(work / "cafe.sqlite3", token)
    started: dict[str, Started] = {}
    results: dict[str, Any] = {}
    finished = False
    try:
        with ui.task("starting runtimes", len(opts.runtimes)) as update:
            for index, name in enumerate(opts.runtimes):
                spec = specs[name]
                started[name] = start_process(
                    name, spec.argv, spec.port, full_env(spec, base), spec.cwd, work / f"{name}.log"
                )
                update(index + 1)
        ctx = await _context(started[opts.runtimes[0]].url, token, opts)
        for name in opts.runtimes:
            results[name] = {
                "description": specs[name].description,
                "url": started[name].url,
                "source": LOCAL_LABEL,
            }
        # Cold starts first, on a quiet machine.
        for name in opts.runtimes:
            with ui.task(f"{name}: {opts.cold_starts} cold starts", opts.cold_starts) as update:
                if name == "lambda":
                    results[name]["cold_start"] = lambda_cold_starts(ports["lambda"], opts.cold_starts)
                else:
                    port = free_port()
                    cold_spec = RuntimeSpec(
                        name,
                        specs[name].argv,
                        port,
                        {**specs[name].env, "PORT": str(port)},
                        specs[name].cwd,
                        specs[name].description,
                    )
                    results[name]["cold_start"] = server_cold_starts(
                        cold_spec, base, opts.cold_starts, work, update
                    )
        if "fargate" in results:
            results["fargate"]["image"] = container_image()
        targets = [
            Driven(
                name,
                started[name].url,
                ctx,
                Probe(pid=started[name].process.pid, report_log=lambda_log if name == "lambda" else None),
            )
            for name in opts.runtimes
        ]
        for name, measured in (await _drive(targets, opts, ui)).items():
            results[name].update(measured)
        if "lambda" in started:
            async with Http(started["lambda"].url) as client, client.get("/__emulator/stats") as response:
                results["lambda"]["emulator"] = await response.json()
        finished = True
    finally:
        for process in started.values():
            process.stop()
        if finished:
            shutil.rmtree(work, ignore_errors=True)
        else:
            ui.note(f"[red]run failed; the runtimes' logs are kept in {work}")
    return results


async def run_remote(opts: Options, ui: Ui) -> dict[str, Any]:
    targets: list[Driven] = []
    for target in opts.targets:
        ctx = await _context(target.url, opts.staff_token, opts)
        if not opts.staff_token:
            ui.note(f"[yellow]{target.name}: no staff token: the barista rounds will be refused (401)")
        targets.append(Driven(target.name, target.url, ctx, Probe()))
    started_ms = int(time.time() * 1000)
    measured = await _drive(targets, opts, ui)
    results: dict[str, Any] = {}
    for target in opts.targets:
        entry: dict[str, Any] = {
            "description": target.url,
            "url": target.url,
            "source": remote_label(target.url),
            **measured[target.name],
        }
        log_group = opts.lambda_log_group if target.name == "lambda" else None
        log_group = log_group or (target.log_group if target.name == "lambda" else None)
        if log_group:
            entry["lambda_reports"] = lambda_reports_from_cloudwatch(
                log_group, started_ms, opts.region or target.region
            )
        instance_id = (opts.ec2_instance_id or instance_id_of(target.extra)) if target.name == "ec2" else None
        if instance_id:
            with ui.task("ec2: instance launch → healthy (EC2 API)", 1):
                boot = ec2_launch_to_healthy(instance_id, opts.region or target.region)
            entry["cold_start"] = {"launch_to_healthy": boot}
            if not boot["available"]:
                ui.note(f"[yellow]ec2: launch → healthy {boot['reason']}")
        results[target.name] = entry
    if opts.ec2_instance_id and "ec2" not in results:
        ui.note("[yellow]--ec2-instance-id given but there is no ec2 target; launch → healthy not read")
    return results


def ec2_launch_to_healthy(instance_id: str, region: str | None) -> dict[str, Any]:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        client = boto3.client("ec2", region_name=region) if region else boto3.client("ec2")
    except BotoCoreError as exc:  # e.g. no region configured anywhere
        return not_available(instance_id, f"no EC2 client: {exc}")
    return launch_to_healthy(client, instance_id)


def lambda_reports_from_cloudwatch(log_group: str, start_ms: int, region: str | None) -> dict[str, Any]:
    import boto3

    client = boto3.client("logs", region_name=region) if region else boto3.client("logs")
    reports = fetch_reports(client, log_group, start_ms, int(time.time() * 1000))
    return {
        "log_group": log_group,
        "summary": summarize_reports(reports),
        "reports": report_dicts(reports[:2000]),
    }


def run(opts: Options, ui: Ui | None = None) -> tuple[Path, dict[str, Any]]:
    """Run the whole comparison and write the report; returns (report directory, results)."""
    from compare.report import write_report

    ui = ui or Ui()
    started = time.monotonic()
    remote = bool(opts.targets)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    with ui.progress:
        runtimes = asyncio.run(run_remote(opts, ui) if remote else run_local(opts, ui))
        headroom = None
        if opts.headroom:
            rate = 2 * _max_rate_used(runtimes, opts)
            with ui.task(f"generator headroom at {rate:g} req/s", 1):
                headroom = asyncio.run(headroom_check(rate, opts.headroom_s))
    workload = load_workload(opts.workload)
    results: dict[str, Any] = {
        "schema": 1,
        "mode": "remote" if remote else "local",
        "source": remote_source(opts.targets) if remote else LOCAL_LABEL,
        "provenance": provenance(ROOT, opts.command),
        "options": opts.public(),
        "workload": {
            "file": workload.source,
            "seed": workload.seed,
            "visits": [asdict(v) for v in workload.visits],
        },
        "runtimes": runtimes,
        "headroom": headroom,
        "wall_s": time.monotonic() - started,
    }
    out = opts.out_dir / stamp
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    write_report(results, out)
    return out, results
