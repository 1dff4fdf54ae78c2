"""Section: CPU per request (server process trees) and Lambda's billed duration."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Block, Para, Section, Table
from compare.report.format import ms
from compare.results import RunResults

TITLE = "CPU per request and billed duration"

WHAT = (
    "What the cost model needs: CPU time per request for the server runtimes (sum over the server's "
    "process tree over the measured window, warm-up excluded, divided by its requests) and Lambda's "
    "billed duration (the handler's duration rounded up to 1 ms; on a cold start the Init Duration is "
    "billed too, as for on-demand ZIP functions since August 2025). For the local Lambda the front's "
    "CPU is the emulated API Gateway and Runtime API, which AWS does not bill to the function."
)


def section(results: RunResults, charts: Charts) -> Section:
    rows = []
    for name, entry in results.runtimes.items():
        cpu = entry.reference.server_cpu if entry.reference is not None else None
        if cpu is not None:
            per = cpu.ms_per_request
            parts = ("front", "environments") if name == "lambda" else ("main process", "child processes")
            split = f"{parts[0]} {ms(per.root)} + {parts[1]} {ms(per.children)}"
            what = "server process tree CPU per request (/proc)"
            rows.append([name, what, ms(per.total), split, entry.source])
        reports = entry.billed
        if reports is not None and reports.invocations:
            b, d = reports.billed_ms, reports.duration_ms
            rows.append(
                [
                    name,
                    "Billed Duration per invocation (REPORT lines)",
                    ms(b.median),
                    f"mean {ms(b.mean)}, p99 {ms(b.p99)}; Duration median {ms(d.median)}; "
                    f"{reports.invocations} invocations, {reports.cold_starts} cold; memory "
                    f"{reports.memory_size_mb} MB, max used {reports.max_memory_used_mb} MB",
                    entry.source,
                ]
            )
        store = entry.cpu_ms_per_request
        if store is not None:
            detail = (
                f"SQLite {ms(store.sqlite)}, DynamoDB (boto3 against a local moto server) "
                f"{ms(store.dynamodb)}"
            )
            if store.billed_ms_dynamodb is not None:
                detail += f"; Lambda billed, warm, DynamoDB path {ms(store.billed_ms_dynamodb)}"
            rows.append(
                [
                    name,
                    "server CPU per request by store (the cost model reads DynamoDB)",
                    ms(store.dynamodb),
                    detail,
                    store.source,
                ]
            )
    blocks: list[Block] = [Para(WHAT)]
    if rows:
        blocks.append(Table(["runtime", "figure", "median / value (ms)", "detail", "source"], rows))
    return Section(TITLE, blocks)
