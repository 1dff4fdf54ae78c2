"""Section: cold starts (local fresh starts; the EC2 instance's own boot in remote mode)."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Block, Image, Para, Section, Table, literal
from compare.report.format import ms, spread
from compare.results import ColdStarts, InstanceBoot, RunResults

TITLE = "Cold starts"

ABSENT_HERE = (
    "On AWS a cold start also contains what is absent here: for Lambda the sandbox and code download; "
    "for Fargate the image pull and ENI attachment (typically 30–90 s); for EC2 the instance boot "
    "(launch → running ≈ 16 s, then cloud-init). Those are not measured by a local run."
)


def _row(name: str, cold: ColdStarts) -> list[str]:
    if cold.is_lambda:
        return [
            name,
            cold.what,
            f"Init Duration {spread(cold.init_ms)}",
            f"first invocation {spread(cold.first_invoke_ms)}",
            f"total {spread(cold.total_ms)}",
        ]
    return [
        name,
        cold.what,
        f"to healthy {spread(cold.healthy_ms)}",
        f"first GET /menu {spread(cold.first_request_ms)}",
        "",
    ]


def _boot_row(name: str, boot: InstanceBoot) -> list[str]:
    if boot.available and boot.launch_to_healthy_s is not None:
        figure = f"{boot.launch_to_healthy_s:.1f} s"
    else:
        figure = boot.reason or "not available"
    return [name, boot.instance_id, boot.launch_time or "–", boot.healthy_at or "–", figure, boot.source]


def _two_measures(results: RunResults) -> list[Block]:
    """A request that waits for a start (Lambda) and capacity that becomes ready (every runtime):
    two measures, never one column."""
    rows = []
    for name, entry in results.runtimes.items():
        cold = entry.cold_start
        ready = entry.aws_capacity_ready
        if cold is None and ready is None:
            continue
        path = cold.request_path_ms if cold is not None else None
        here = cold.capacity_ready_ms if cold is not None else None
        on_path = (
            ms(path)
            if path is not None
            else ("not recorded" if name == "lambda" else "none: requests queue on running units")
        )
        aws = (
            "not recorded"
            if ready is None or ready.seconds is None
            else f"{ready.seconds:g} s ({literal(ready.kinds() if ready.parts else ready.source)})"
        )
        rows.append([name, on_path, ms(here) if here is not None else "not recorded", aws])
    if not rows:
        return []
    return [
        Table(
            [
                "runtime",
                "request waits for a start (ms, here)",
                "new capacity ready (ms, here)",
                "new capacity ready on AWS",
            ],
            rows,
            caption="medians under the envelope, measured here; the AWS column is sourced",
        )
    ]


def section(results: RunResults, charts: Charts) -> Section:
    blocks: list[Block] = []
    rows: list[list[str]] = []
    boots: list[list[str]] = []
    for name, entry in results.runtimes.items():
        cold = entry.cold_start
        if cold is None:
            continue
        if cold.launch_to_healthy is not None:
            boots.append(_boot_row(name, cold.launch_to_healthy))
        if cold.samples:
            rows.append(_row(name, cold))
    if rows:
        blocks.append(
            Table(
                ["runtime", "what", "start (ms)", "first request (ms)", "Lambda: spawn → first answer (ms)"],
                rows,
                caption=f"{results.source}; median (interquartile range, range, count)",
            )
        )
        blocks.append(Para(ABSENT_HERE))
    elif not boots:
        blocks.append(
            Para("No cold starts were measured in this run (remote mode cannot restart the services).")
        )
    blocks += _two_measures(results)
    if boots:
        blocks.append(
            Para(
                "Remote mode cannot restart the services; what it can read is the EC2 instance's own "
                "cold start, from the EC2 API (**measured on AWS**): launch → service healthy."
            )
        )
        blocks.append(
            Table(
                ["runtime", "instance", "launched (UTC)", "healthy (UTC)", "launch → healthy", "source"],
                boots,
                caption="the instance's own cold start, one sample: EC2 LaunchTime (DescribeInstances) "
                "to the first 200 from /health, logged by ec2/user-data.sh to the serial console "
                "(GetConsoleOutput); LaunchTime has 1 s resolution",
            )
        )
    lam = results.runtimes.get("lambda")
    if lam is not None and lam.emulator is not None:
        e = lam.emulator
        blocks.append(
            Para(
                f"Under load the local Lambda started {e.cold_starts} execution environments in all "
                f"(limit {e.concurrency_limit}), reaped {e.reaped} idle ones (after "
                f"{e.idle_reap_s or 0:g} s without an event) and throttled {e.throttles} requests "
                f"(answered 500, as API Gateway answers a Lambda throttle) over {e.invocations} "
                "invocations. A burst that finds no idle environment starts one "
                "per request; here those starts share 2 CPUs with everything else and slow each other "
                "down, while on AWS they run on separate hosts."
            )
        )
    fargate = results.runtimes.get("fargate")
    if fargate is not None and fargate.image is not None:
        sizes = ", ".join(f"{i.name} {i.size}" for i in fargate.image.images)
        blocks.append(Para(f"Fargate container image: {sizes or fargate.image.note}."))
    for name, entry in results.runtimes.items():
        summary = entry.cloudwatch.summary if entry.cloudwatch is not None else None
        if summary is not None and summary.cold_starts:
            blocks.append(
                Para(
                    f"{name}: CloudWatch REPORT lines ({entry.source}): {summary.cold_starts} "
                    f"cold starts, median Init Duration {ms(summary.init_ms.median)} ms."
                )
            )
    if charts.cold is not None:
        c = charts.cold
        blocks.append(Image(c.path, f"Cold-start distribution — {literal(c.footer)}", c.alt))
    return Section(TITLE, blocks)
