"""Section: what was measured, and where (how each runtime ran, the workload, the labels)."""

from __future__ import annotations

from pathlib import Path

from compare.report.charts import Charts
from compare.report.document import Block, Para, Section, Table, literal
from compare.results import RunResults

TITLE = "What was measured, and where"

LOCAL = (
    "**These are local emulations, measured here — not AWS figures.** All three runtimes ran on this "
    "one machine on one SQLite file, started with their deployed commands: Lambda through a local "
    "emulator (an API-Gateway-style front turning each request into a REST proxy event, dispatching it "
    "to execution environments that are real `awslambdaric` processes, one request at a time each, "
    "started on demand up to a concurrency limit, each in its own envelope, frozen between "
    "invocations and reaped after an idle time; a throttle is answered as API Gateway's REST API "
    'answers one, 500 "Internal server error"); Fargate as the container\'s entry '
    "command natively (no container engine, no image pull, no load balancer); EC2 as the systemd "
    "unit's gunicorn command. There is no network between client and server, no API Gateway, ALB or "
    "DynamoDB in the latency windows (SQLite; the CPU figures are also taken on DynamoDB through a moto "
    "server), and the load generator shares the machine's CPUs with the servers, outside the envelopes. "
    "Use the figures to compare the runtimes' shapes (queueing, cold starts, CPU per request), not as "
    "AWS latencies: the projection section adds what AWS adds."
)


def _envelopes(results: RunResults) -> list[Block]:
    rows = []
    for name, entry in results.runtimes.items():
        e = entry.envelope
        if e is None:
            rows.append([name, "–", "–", "not recorded", "–", "–"])
            continue
        enforced = "yes" if e.enforced else "**no: ran uncapped**"
        basis = "; ".join(
            x for x in (e.basis, e.credits or "", f"{e.workers} worker(s)" if e.workers else "") if x
        )
        rows.append(
            [name, f"{e.cpu_vcpu:g}", f"{e.memory_mb:,}", enforced, e.mechanism, literal(basis) or "–"]
        )
    missing = [r[0] for r in rows if r[3] == "not recorded"]
    blocks: list[Block] = [
        Table(
            ["runtime", "vCPU", "memory MB", "enforced", "mechanism", "as deployed"],
            rows,
            caption="the resource envelope each runtime was held to while measured "
            "(per environment, task or instance)",
        )
    ]
    if missing:
        blocks.append(
            Para(
                f"No envelope is recorded for {', '.join(missing)} (an older results file, a machine "
                "without writable cgroups, or remote mode): treat those figures as taken without limits."
            )
        )
    return blocks


def section(results: RunResults, charts: Charts) -> Section:
    src = results.source
    blocks: list[Block] = []
    if results.mode == "local":
        blocks.append(Para(LOCAL))
    else:
        blocks.append(
            Para(
                f"Figures in this report were **{src}**: the same workload driven from this machine "
                "against the deployed endpoints listed below; latency includes the network path."
            )
        )
    blocks.append(
        Para(
            "Load is **open loop**: requests are sent at a constant arrival rate whatever the server "
            "does. An independent request (a menu, a new order) is timed from its planned send time, "
            "however late the generator or a queue made it. A dependent step (polling, cancelling or "
            "advancing an order) cannot go before the step that created its order: it is sent at its "
            "planned time or when that step completes, whichever is later, and timed from then — its "
            "planned time already includes the visit's think time after the earlier step, and a slow "
            "earlier step counts in that step's latency, not twice. The generator's own lateness is "
            "reported as send lag. Percentiles come from HDR histograms; warm-up requests are "
            f"excluded. Every figure below is labelled: *{src}*, *projected* (AWS latency modeled from "
            "measured inputs) or *modeled* (cost and the simulated day, from the price list)."
        )
    )
    blocks += _envelopes(results)
    rows = [[name, entry.description, entry.url] for name, entry in results.runtimes.items()]
    blocks.append(Table(["runtime", "how it ran", "URL"], rows))
    blocks += _workload(results)
    return Section(TITLE, blocks)


def _workload(results: RunResults) -> list[Block]:
    """What was sent: generated from the census and the profile (its route shares beside the
    profile's), or an older run's typed visits."""
    w = results.workload
    if not w.generated_from:
        mix = "; ".join(f"{v.name} ×{v.weight:g}: {' → '.join(v.steps)}" for v in w.visits)
        text = (
            f"Workload `{Path(w.file).name}` (seed {w.seed}): customer visits {mix}; plus barista "
            "rounds listing the queue by status and advancing orders (PLACED → PREPARING → READY → "
            "COMPLETED), with think times between steps."
        )
        return [Para(text)]
    head = (
        f"Workload **generated from the census and the cost profile `{Path(w.profile).name}`** "
        f"({w.generated_from}), replayed with `{Path(w.file).name}` (seed {w.seed}, time compressed "
        f"{w.compression:g}×): the mix measured here is the mix the cost section prices. "
        + " ".join(f"{note[0].upper()}{note[1:]}." for note in w.notes)
    )
    routes = sorted(w.profile_by_route, key=lambda r: -w.profile_by_route[r])
    rows = [
        [f"`{r}`", f"{w.generated_by_route.get(r, 0.0):.2%}", f"{w.profile_by_route[r]:.2%}"] for r in routes
    ]
    return [Para(head), Table(["route", "generated (share)", "profile traffic.by_route (share)"], rows)]
