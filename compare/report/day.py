"""Section: a café's business day simulated on each runtime as deployed (modeled)."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Block, Image, Para, Section, Table, literal
from compare.report.format import ms
from compare.results import RunResults

TITLE = "A café's day (modeled)"


def section(results: RunResults, charts: Charts) -> Section:
    days = {n: e.day for n, e in results.runtimes.items() if e.day is not None}
    if not days:
        return Section(
            TITLE,
            [Para("No simulated day in this run; `make day PROFILE=…` simulates one from a results file.")],
        )
    blocks: list[Block] = [
        Para(
            "*Modeled:* one business day of the profile (opening hours, the hourly arrival shape, the café "
            "mix) simulated on each runtime as deployed — Lambda's environments started on the request "
            "path and reaped when idle, Fargate's and EC2's scaling policies and start times — from the "
            "figures measured here and the sourced AWS figures, with the pages following a stream and "
            "with them polling (the chart shows both; the table the profile's own mode). Not measured on AWS."
        ),
        Table(
            ["runtime", "requests", "day p99 ms", "requests waiting for a start", "USD a day"],
            [
                [n, f"{d.requests:,}", ms(d.p99_ms), f"{100 * d.cold_start_share:.2f} %", f"{d.usd:,.2f}"]
                for n, d in days.items()
            ],
            caption="modeled (simulated day)",
        ),
    ]
    if charts.day is not None:
        blocks.append(
            Image(charts.day.path, f"The day, hour by hour — {literal(charts.day.footer)}", charts.day.alt)
        )
    return Section(TITLE, blocks)
