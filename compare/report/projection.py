"""Section: the latency projected for AWS per runtime, with every input and its source."""

from __future__ import annotations

import json
from typing import Any

from compare.report.charts import Charts
from compare.report.document import Block, Para, Section, Table, literal
from compare.report.format import ms
from compare.report.warnings import mark
from compare.results import RunResults

TITLE = "Projected latency on AWS"

WHAT = (
    "*Projected: modeled from measured inputs.* Each runtime's latency on AWS is the service time "
    "measured here under the deployed envelope combined, as distributions (not sums of percentiles), "
    "with the hops it has on AWS — API Gateway for Lambda, the load balancer for Fargate and EC2 "
    "scale-out, the DynamoDB round trips of the café mix — each input with its source below."
)


def _value(value: Any) -> str:
    """A number as it is; a distribution or a table (the projection's inputs) as compact text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g}"
    if isinstance(value, dict) and "dist" in value:
        return literal(", ".join(f"{k} {v}" for k, v in value.items()))
    return literal(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")))


def section(results: RunResults, charts: Charts) -> Section:
    projected = {n: e for n, e in results.runtimes.items() if e.projection is not None}
    if not projected:
        return Section(
            TITLE,
            [
                Para(
                    "No AWS projection in this run (an older results file, or the projection could "
                    "not be computed): the report's latency figures are the local ones, "
                    f"{results.source}, and are not AWS figures."
                )
            ],
        )
    blocks: list[Block] = [Para(WHAT)]
    rows = []
    for name, entry in results.runtimes.items():
        p = entry.projection
        trips = entry.dynamodb_round_trips
        trips_text = ", ".join(f"{op} {n}" for op, n in trips.items()) if trips else "not recorded"
        local = entry.reference.latency_ms.p99 if entry.reference is not None else None
        rows.append(
            [
                name,
                mark(results, name, "p50", ms(p.p50_ms)) if p else "not projected",
                mark(results, name, "p99", ms(p.p99_ms)) if p else "not projected",
                mark(results, name, "p99", ms(local)),
                trips_text,
            ]
        )
    blocks.append(
        Table(
            [
                "runtime",
                "projected p50 ms",
                "projected p99 ms",
                "p99 measured here ms",
                "DynamoDB round trips",
            ],
            rows,
            caption="projected (modeled from measured inputs) beside the local figure it starts from",
        )
    )
    for name, entry in projected.items():
        assert entry.projection is not None
        blocks.append(
            Table(
                ["input", "value", "source"],
                [[literal(i.name), _value(i.value), literal(i.source)] for i in entry.projection.inputs],
                caption=f"{name}: the projection's inputs",
            )
        )
    ready: list[list[str]] = []
    for name, e in results.runtimes.items():
        r = e.aws_capacity_ready
        if r is None:
            continue
        seconds = "–" if r.seconds is None else f"{r.seconds:g}"
        if not r.parts:
            ready.append([name, r.what, seconds, "", literal(r.source)])
            continue
        ready += [[name, p.what, f"{p.seconds:g}", p.kind, literal(p.source)] for p in r.parts]
        ready.append([name, f"**{r.what}**", f"**{seconds}**", "the sum of the parts above", ""])
    if ready:
        blocks.append(
            Table(
                ["runtime", "new capacity on AWS", "seconds", "kind", "source"],
                ready,
                caption="capacity ready on AWS, part by part: each part has its own kind "
                "(a published measurement, AWS documentation, or this project's assumption)",
            )
        )
    return Section(TITLE, blocks)
