"""Cold starts as each runtime really starts, repeated, with median and spread.

- server runtimes: spawn the deployed command → first 200 from /health, then one GET /menu
  (the first real request), then stop; repeated `count` times on a fresh process each time.
- lambda: the local Lambda's control endpoint starts `count` fresh execution environments one
  after another; its Runtime API times Init Duration (spawn → first /next) and the first
  invocation (GET /menu) separately.
"""

from __future__ import annotations

import http.client
import json
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from compare.aws_model.overheads import Overheads
from compare.local.envelopes import Group
from compare.local.processes import start_process
from compare.local.runtimes import RuntimeSpec
from compare.results import (
    CapacityReady,
    ColdStarts,
    ColdStartSample,
    ContainerImage,
    ImageSize,
    ReadyPart,
    Spread,
    from_json,
)

#: what each capacity_ready figure is, in a sentence
PART_NAMES = {
    "fargate.task_start_s": "task start (image pull)",
    "ec2.boot_s": "launch → SSH",
    "ec2.user_data_install_s": "user data install",
    "alb.health_check_ready_s": "ALB health checks",
}


def spread(values: list[float]) -> Spread:
    """Median, min, max, and the interquartile range: the spread of a small sample."""
    if not values:
        return Spread(n=0, median=0.0, min=0.0, max=0.0, q1=0.0, q3=0.0)
    ordered = sorted(values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return Spread(
        n=len(ordered), median=statistics.median(ordered), min=ordered[0], max=ordered[-1], q1=q1, q3=q3
    )


def _get_ms(port: int, path: str) -> tuple[float, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return (time.monotonic() - started) * 1000, response.status
    finally:
        connection.close()


def server_cold_starts(
    spec: RuntimeSpec,
    base_env: Mapping[str, str],
    count: int,
    log_dir: Path,
    on_progress: Callable[[int], None] | None = None,
    group: Group | None = None,
) -> ColdStarts:
    """`count` fresh starts of a server runtime, each inside `group`'s envelope when given.

    A server has no cold start on the request path (a load balancer sends nothing to a target
    before it is healthy); what it has is *new capacity ready*: process start → first 200 from /health.
    """
    samples: list[ColdStartSample] = []
    for index in range(count):
        log = log_dir / f"{spec.name}-coldstart.log"
        started = start_process(
            spec, spec.environment(base_env), log, label=f"{spec.name}-cold{index}", group=group
        )
        try:
            first_ms, status = _get_ms(spec.port, "/menu")
        finally:
            started.stop()
        samples.append(
            ColdStartSample(
                healthy_ms=started.healthy_after_s * 1000, first_request_ms=first_ms, status=status
            )
        )
        if on_progress is not None:
            on_progress(index + 1)
    healthy = spread([s.healthy_ms or 0.0 for s in samples])
    return ColdStarts(
        what="process spawn → first 200 from /health; then the first GET /menu",
        samples=tuple(samples),
        healthy_ms=healthy,
        first_request_ms=spread([s.first_request_ms or 0.0 for s in samples]),
        request_path_ms=None,
        capacity_ready_ms=healthy.median,
        capacity_ready=healthy,
    )


def lambda_cold_starts(port: int, count: int, path: str = "/menu") -> ColdStarts:
    """`count` fresh environments of the local Lambda, one after another (its control endpoint)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30 + 10 * count)
    try:
        connection.request("POST", f"/__emulator/coldstart?n={count}&path={path}")
        response = connection.getresponse()
        body = json.loads(response.read())
    finally:
        connection.close()
    samples = from_json(tuple[ColdStartSample, ...], body["samples"])

    def of(values: list[float | None]) -> Spread:
        return spread([v or 0.0 for v in values])

    init, total = of([s.init_ms for s in samples]), of([s.total_ms for s in samples])
    return ColdStarts(
        what="fresh awslambdaric environment: spawn → first /next (Init Duration); then one GET /menu",
        samples=samples,
        init_ms=init,
        first_invoke_ms=of([s.first_invoke_ms for s in samples]),
        total_ms=total,
        billed_ms=of([s.billed_ms for s in samples]),
        # The request that finds no warm environment waits for spawn → init → its own answer;
        # the new environment can take events once its init is done.
        request_path_ms=total.median,
        capacity_ready_ms=init.median,
        request_path=total,
        capacity_ready=init,
    )


def container_image() -> ContainerImage:
    """The Fargate image's size where a container engine is present (image pull dominates on AWS).

    Lists the local images whose name contains "cafe"; building one is the deploy area's job.
    """
    engine = shutil.which("docker") or shutil.which("podman")
    if engine is None:
        return ContainerImage(None, "no container engine on this machine: the image size was not measured")
    try:
        out = subprocess.run(
            [engine, "image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except subprocess.CalledProcessError as exc:
        reason = (exc.stderr or "").strip().splitlines()[:1] or [f"exit status {exc.returncode}"]
        return ContainerImage(engine, f"not measured: `{Path(engine).name} image ls` failed ({reason[0]})")
    except (OSError, subprocess.SubprocessError) as exc:
        return ContainerImage(engine, f"not measured: {Path(engine).name} unusable ({exc})")
    images = [line.split(" ", 1) for line in out.stdout.splitlines() if "cafe" in line]
    note = "" if images else "no local image named *cafe* (build it with the deploy targets)"
    return ContainerImage(engine, note, tuple(ImageSize(n, s) for n, s in images))


def aws_capacity_ready(runtime: str, overheads: Overheads) -> CapacityReady:
    """What AWS adds before new capacity serves, beside the local figure (never instead of it):
    Lambda's runtime init (published hello-world measurements); for Fargate and EC2 the parts the
    overheads file adds up (`capacity_ready`), each with its own kind — EC2's launch → SSH is
    published, the user data and the ALB's health checks after it are assumptions."""
    if runtime == "lambda":
        init = overheads["lambda.init.runtime_ms"]
        return CapacityReady(
            "Python runtime init on AWS (hello world, median)", init.typical() / 1000, init.label()
        )
    figures = overheads.capacity_ready(runtime)
    parts = tuple(
        ReadyPart(PART_NAMES.get(f.name, f.name), round(f.typical(), 3), f.kind, f"{f.source} ({f.date})")
        for f in figures
    )
    what = {"fargate": "Fargate task start → ALB healthy", "ec2": "EC2 launch → ALB healthy (scale-out)"}
    return CapacityReady(
        what.get(runtime, runtime) + " (medians or midpoints, summed)",
        round(sum(p.seconds for p in parts), 3),
        "; ".join(f"{p.what} ({p.kind}): {p.source}" for p in parts),
        parts,
    )
