"""Section: the monthly cost modeled by compare.cost with this run's measurements."""

from __future__ import annotations

from pathlib import Path

from compare.report.charts import Charts
from compare.report.document import Block, Image, Para, Section, Table, literal
from compare.results import RunResults

TITLE = "Cost (modeled)"


def section(results: RunResults, charts: Charts) -> Section:
    cost = results.cost
    blocks: list[Block] = []
    if cost is None or not cost.available or cost.estimate is None:
        note = cost.note if cost is not None else "the cost model was not run"
        return Section(TITLE, [Para(f"No cost figures in this report: {note}.")])
    est = cost.estimate
    measured = ", ".join(f"{k} ({v})" for k, v in sorted(cost.measured_inputs.items())) or "none"
    blocks.append(
        Para(
            f"**Modeled** by compare.cost from the list-price snapshot {est['prices']['snapshot']} "
            f"({est['prices']['snapshot_date']}) for the profile `{Path(cost.base_profile or '').name}`, "
            f"with these inputs taken from this run: {measured}. "
            "Local CPU and duration figures come from this machine, not from AWS hardware."
        )
    )
    rows = [
        [
            name,
            r.get("option", ""),
            f"{r['monthly_usd']:.2f}",
            f"{r['monthly_usd_with_shared']:.2f}",
            f"{r['usd_per_1000_orders_with_shared']:.4f}",
        ]
        for name, r in est["runtimes"].items()
    ]
    mode = est.get("mode", est.get("traffic", {}).get("mode", "polling"))
    blocks.append(
        Table(
            ["runtime", "option", "USD/month", "USD/month with shared", "USD per 1000 orders"],
            rows,
            caption=f"modeled, {est['region']}; the pages by {mode}: "
            f"{est['workload']['monthly_requests']:.0f} requests/month",
        )
    )
    modes = {m: v for m, v in est.get("modes", {}).items() if isinstance(v, dict)}
    if modes:
        blocks.append(
            Table(
                [
                    "runtime",
                    "mode",
                    "USD/month",
                    "with its DynamoDB and transfer",
                    "screens late p50 / p99 (ms)",
                ],
                [
                    [
                        name,
                        m,
                        f"{r['monthly_usd']:.2f}",
                        f"{r['monthly_usd_with_shared']:.2f}",
                        f"{r['notice_delay']['p50_ms']:,.0f} / {r['notice_delay']['p99_ms']:,.0f}"
                        + ("" if r["notice_delay"].get("keeps_up", True) else " (falls behind)"),
                    ]
                    for m, v in modes.items()
                    for name, r in v["runtimes"].items()
                ],
                caption="modeled: each runtime with the pages polling and following a stream; the notice "
                "delay from the pages' intervals (polling) or the delivery path on AWS (push)",
            )
        )
    if cost.sizing:
        blocks.append(
            Table(
                [
                    "profile",
                    "runtime",
                    "unit",
                    "at the peak hour",
                    "per unit within the SLO",
                    "what set the count",
                ],
                [
                    [
                        u.profile,
                        u.runtime,
                        u.unit,
                        str(u.units_peak),
                        "–" if u.capacity_rps is None else f"{u.capacity_rps:g} req/s ({u.capacity_source})",
                        u.binding,
                    ]
                    for u in cost.sizing
                ],
                caption="modeled: every profile's Fargate tasks and EC2 instances sized with this run's "
                "figures; a unit's capacity is the deployed path's (section Capacity) where a bound of the "
                "runtime itself was found, scaled by vCPU to the unit the profile prices",
            )
        )
    rec = est["recommendation"]
    blocks.append(Para(f"**Recommendation (modeled):** {rec['reason']}"))
    inputs = rec.get("inputs")
    if inputs:
        blocks.append(
            Table(
                ["runtime", "p99 ms used", "where it comes from"],
                [[i["runtime"], f"{i['p99_ms']:g}", i["source"]] for i in inputs],
                caption="the recommendation's latency inputs",
            )
        )
    if charts.breakeven is not None:
        c = charts.breakeven
        blocks.append(Image(c.path, f"Break-even — {literal(c.footer)}", c.alt))
    return Section(TITLE, blocks)
