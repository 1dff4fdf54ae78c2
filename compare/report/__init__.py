"""The report under reports/<timestamp>/: report.md, report.html (self-contained), PNGs, results.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from compare.capacity import sustainable_text
from compare.costlink import cost_section
from compare.report.charts import capacity_chart, cold_start_chart, footer, latency_chart
from compare.report.document import Image, Para, Section, Table, to_html, to_markdown

TITLE = "Café Compute — latency side by side: Lambda, Fargate, EC2"
SECTIONS = (
    "What was measured, and where",
    "Summary",
    "Latency at the reference rate",
    "Capacity",
    "Cold starts",
    "CPU per request and billed duration",
    "Generator headroom",
    "Cost (modeled)",
    "Machine and reproduction",
)


def _ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _spread(s: dict[str, float] | None) -> str:
    if not s or not s.get("n"):
        return "–"
    iqr = f"IQR {_ms(s['q1'])}–{_ms(s['q3'])}"
    return f"{_ms(s['median'])} ({iqr}, range {_ms(s['min'])}–{_ms(s['max'])}, n={s['n']})"


def _errors(summary: dict[str, Any]) -> str:
    errors = summary.get("errors_by_status") or {}
    return ", ".join(f"{k} ×{v}" for k, v in errors.items()) or "none"


def _intro(results: dict[str, Any]) -> Section:
    src = results["source"]
    blocks: list[Para | Table | Image] = []
    if results["mode"] == "local":
        blocks.append(
            Para(
                "**These are local emulations, measured here — not AWS figures.** All three runtimes "
                "ran on this "
                "one machine on one SQLite file, started with their deployed commands: Lambda "
                "through a local "
                "emulator (an API-Gateway-style front turning each request into a REST proxy event, "
                "dispatching it "
                "to execution environments that are real `awslambdaric` processes, one request at a "
                "time each, "
                "started on demand up to a concurrency limit, 429 beyond it); Fargate as the "
                "container's entry "
                "command natively (no container engine, no image pull, no load balancer); EC2 as the systemd "
                "unit's gunicorn command. There is no network between client and server, no API "
                "Gateway, ALB or "
                "DynamoDB, and the load generator shares the machine's CPUs with the servers. Use "
                "the figures to "
                "compare the runtimes' shapes (queueing, cold starts, CPU per request), not as AWS latencies."
            )
        )
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
            "does, and each "
            "latency is counted from the moment the request was meant to be sent (no coordinated omission). "
            "Percentiles come from HDR histograms; warm-up requests are excluded. Every figure below "
            "is labelled: "
            f"*{src}* or *modeled* (cost, from the price list)."
        )
    )
    rows = [
        [name, entry.get("description", ""), entry.get("url", "")]
        for name, entry in results["runtimes"].items()
    ]
    blocks.append(Table(["runtime", "how it ran", "URL"], rows))
    w = results["workload"]
    mix = "; ".join(f"{v['name']} ×{v['weight']:g}: {' → '.join(v['steps'])}" for v in w["visits"])
    blocks.append(
        Para(
            f"Workload `{Path(w['file']).name}` (seed {w['seed']}): customer visits {mix}; plus barista "
            "rounds listing the queue by status and advancing orders (PLACED → PREPARING → READY → "
            "COMPLETED), with think times between steps."
        )
    )
    return Section(SECTIONS[0], blocks)


def _summary(results: dict[str, Any]) -> Section:
    rate = results["options"]["reference_rate"]
    rows = []
    for name, entry in results["runtimes"].items():
        ref = entry.get("reference") or {}
        lat = ref.get("latency_ms", {})
        cap = entry.get("capacity") or {}
        cold = entry.get("cold_start") or {}
        cold_median = (cold.get("total_ms") or cold.get("healthy_ms") or {}).get("median")
        cpu = (ref.get("server_cpu") or {}).get("ms_per_request", {}).get("total")
        billed = ref.get("lambda_reports") or (entry.get("lambda_reports") or {}).get("summary") or {}
        rows.append(
            [
                name,
                _ms(lat.get("p50")),
                _ms(lat.get("p99")),
                _ms(lat.get("max")),
                f"{ref.get('throughput_rps', 0):.0f}",
                _errors(ref),
                sustainable_text(cap),
                _ms(cold_median),
                _ms(cpu),
                _ms((billed.get("billed_ms") or {}).get("median")),
            ]
        )
    table = Table(
        [
            "runtime",
            "p50 ms",
            "p99 ms",
            "max ms",
            "req/s",
            "errors",
            "sustainable req/s",
            "cold start ms (median)",
            "server CPU ms/req",
            "Lambda billed ms (median)",
        ],
        rows,
        caption=f"{results['source']}; latency at {rate:g} req/s; sustainable = highest rate step meeting "
        f"p99 ≤ {results['options']['slo_p99_ms']:g} ms with no errors",
    )
    return Section(SECTIONS[1], [table])


def _latency(results: dict[str, Any], charts: dict[str, Path | None]) -> Section:
    opts = results["options"]
    blocks: list[Para | Table | Image] = []
    for name, entry in results["runtimes"].items():
        ref = entry.get("reference")
        if not ref:
            continue
        rows = [
            [
                "all",
                str(ref["requests"]),
                *(_ms(ref["latency_ms"][p]) for p in ("p50", "p90", "p99", "p99.9", "max")),
            ]
        ]
        for op, data in ref["by_operation"].items():
            rows.append(
                [
                    op,
                    str(data["requests"]),
                    *(_ms(data["latency_ms"][p]) for p in ("p50", "p90", "p99", "p99.9", "max")),
                ]
            )
        blocks.append(
            Table(
                ["operation", "requests", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"],
                rows,
                caption=f"{name} — {entry.get('source', results['source'])}:"
                f" {opts['reference_rate']:g} req/s for "
                f"{opts['reference_s']:g} s after {opts['reference_warmup_s']:g} s warm-up"
                f"{_rounds(ref, opts)};"
                f" achieved {ref['throughput_rps']:.1f} req/s; errors: {_errors(ref)};"
                f" statuses {ref['statuses']}; generator send lag p99 {_ms(ref['send_lag_ms']['p99'])} ms",
            )
        )
    if (chart := charts.get("latency")) is not None:
        blocks.append(Image(chart, f"Latency percentiles per runtime — {footer(results)}"))
    return Section(SECTIONS[2], blocks)


def _rounds(ref: dict[str, Any], opts: dict[str, Any]) -> str:
    rounds = ref.get("rounds") or []
    if len(rounds) < 2:
        return ""
    p99s = " / ".join(_ms(r["latency_ms"]["p99"]) for r in rounds)
    return (
        f", in {len(rounds)} rounds taken in turn with the other runtimes"
        f" ({opts.get('round_warmup_s', 0):g} s warm-up before each later round); p99 by round {p99s} ms"
    )


def _verdict(step: dict[str, Any]) -> str:
    if not step["verdict"]["ok"]:
        return f"✗ {step['verdict']['reason']}"
    first = step.get("first_attempt")
    return f"✓ (on a second try; the first: {first['verdict']['reason']})" if first else "✓"


def _capacity(results: dict[str, Any], charts: dict[str, Path | None]) -> Section:
    opts = results["options"]
    blocks: list[Para | Table | Image] = [
        Para(
            f"Rate steps of {opts['step_s']:g} s (after {opts['warmup_s']:g} s warm-up each) through "
            f"{', '.join(f'{r:g}' for r in opts['rates'])} req/s, stopping at the first step whose "
            "p99 exceeds "
            f"{opts['slo_p99_ms']:g} ms, that has errors, or that delivers under 90 % of what it sent. "
            "Send lag is how late the generator dispatched requests (their latency still counts from "
            "the intended "
            "time); the generator shares this machine's CPUs with the servers."
        )
    ]
    for name, entry in results["runtimes"].items():
        cap = entry.get("capacity")
        if not cap:
            continue
        rows = [
            [
                f"{s['target_rate_rps']:g}",
                f"{s['throughput_rps']:.0f}",
                _ms(s["latency_ms"]["p50"]),
                _ms(s["latency_ms"]["p99"]),
                _ms(s["latency_ms"]["max"]),
                _errors(s),
                _ms((s.get("server_cpu") or {}).get("ms_per_request", {}).get("total")),
                _ms(s["send_lag_ms"]["p99"]),
                f"{100 * s['generator_cpu_share']:.0f} %",
                _verdict(s),
            ]
            for s in cap["steps"]
        ]
        sustainable = f"{sustainable_text(cap)} req/s" if cap["sustainable_rps"] else "none of the steps"
        blocks.append(
            Table(
                [
                    "rate req/s",
                    "achieved",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "errors",
                    "server CPU ms/req",
                    "send lag p99 ms",
                    "generator CPU",
                    "verdict",
                ],
                rows,
                caption=f"{name} — {entry.get('source', results['source'])}:"
                f" highest sustainable {sustainable} "
                f"(stopped: {cap['stopped']})",
            )
        )
    if (chart := charts.get("capacity")) is not None:
        blocks.append(Image(chart, f"Throughput vs p99 — {footer(results)}"))
    return Section(SECTIONS[3], blocks)


def _cold(results: dict[str, Any], charts: dict[str, Path | None]) -> Section:
    blocks: list[Para | Table | Image] = []
    rows = []
    boots: list[list[str]] = []
    for name, entry in results["runtimes"].items():
        cold = entry.get("cold_start")
        if not cold:
            continue
        if (boot := cold.get("launch_to_healthy")) is not None:
            boots.append(_boot_row(name, boot))
        if "samples" not in cold:
            continue
        if "init_ms" in cold:
            rows.append(
                [
                    name,
                    cold["what"],
                    f"Init Duration {_spread(cold['init_ms'])}",
                    f"first invocation {_spread(cold['first_invoke_ms'])}",
                    f"total {_spread(cold['total_ms'])}",
                ]
            )
        else:
            rows.append(
                [
                    name,
                    cold["what"],
                    f"to healthy {_spread(cold['healthy_ms'])}",
                    f"first GET /menu {_spread(cold['first_request_ms'])}",
                    "",
                ]
            )
    if rows:
        blocks.append(
            Table(
                ["runtime", "what", "start (ms)", "first request (ms)", "Lambda: spawn → first answer (ms)"],
                rows,
                caption=f"{results['source']}; median (interquartile range, range, count)",
            )
        )
        blocks.append(
            Para(
                "On AWS a cold start also contains what is absent here: for Lambda the sandbox and "
                "code download; for "
                "Fargate the image pull and ENI attachment (typically 30–90 s); for EC2 the instance "
                "boot (launch → "
                "running ≈ 16 s, then cloud-init). Those are not measured by a local run."
            )
        )
    elif not boots:
        blocks.append(
            Para("No cold starts were measured in this run (remote mode cannot restart the services).")
        )
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
    emulator = (results["runtimes"].get("lambda") or {}).get("emulator")
    if emulator:
        blocks.append(
            Para(
                f"Under load the local Lambda started {emulator['cold_starts']} execution "
                "environments in all "
                f"(limit {emulator['concurrency_limit']}) and throttled {emulator['throttles']} "
                "requests with 429 "
                f"over {emulator['invocations']} invocations. A burst that finds no idle environment "
                "starts one "
                "per request; here those starts share 2 CPUs with everything else and slow each other down, "
                "while on AWS they run on separate hosts."
            )
        )
    image = (results["runtimes"].get("fargate") or {}).get("image")
    if image:
        sizes = ", ".join(f"{i['name']} {i['size']}" for i in image.get("images", []))
        blocks.append(Para(f"Fargate container image: {sizes or image['note']}."))
    for name, entry in results["runtimes"].items():
        summary = (entry.get("lambda_reports") or {}).get("summary")
        if summary and summary.get("cold_starts"):
            blocks.append(
                Para(
                    f"{name}: CloudWatch REPORT lines ({entry['source']}): {summary['cold_starts']} "
                    f"cold starts, median Init Duration {_ms(summary['init_ms']['median'])} ms."
                )
            )
    if (chart := charts.get("cold")) is not None:
        blocks.append(Image(chart, f"Cold-start distribution — {footer(results)}"))
    return Section(SECTIONS[4], blocks)


def _boot_row(name: str, boot: dict[str, Any]) -> list[str]:
    if boot.get("available"):
        figure = f"{boot['launch_to_healthy_s']:.1f} s"
    else:
        figure = str(boot.get("reason", "not available"))
    return [
        name,
        str(boot.get("instance_id", "")),
        str(boot.get("launch_time") or "–"),
        str(boot.get("healthy_at") or "–"),
        figure,
        str(boot.get("source", "")),
    ]


def _cpu(results: dict[str, Any]) -> Section:
    rows = []
    for name, entry in results["runtimes"].items():
        ref = entry.get("reference") or {}
        cpu = ref.get("server_cpu")
        if cpu:
            per = cpu["ms_per_request"]
            split = (
                f"front {_ms(per['root'])} + environments {_ms(per['children'])}"
                if name == "lambda"
                else (f"main process {_ms(per['root'])} + child processes {_ms(per['children'])}")
            )
            rows.append(
                [
                    name,
                    "server process tree CPU per request (/proc)",
                    _ms(per["total"]),
                    split,
                    entry.get("source", ""),
                ]
            )
        reports = ref.get("lambda_reports") or (entry.get("lambda_reports") or {}).get("summary")
        if reports and reports.get("invocations"):
            b, d = reports["billed_ms"], reports["duration_ms"]
            rows.append(
                [
                    name,
                    "Billed Duration per invocation (REPORT lines)",
                    _ms(b["median"]),
                    f"mean {_ms(b['mean'])}, p99 {_ms(b['p99'])}; Duration median {_ms(d['median'])}; "
                    f"{reports['invocations']} invocations, {reports['cold_starts']} cold; memory "
                    f"{reports['memory_size_mb']} MB, max used {reports['max_memory_used_mb']} MB",
                    entry.get("source", ""),
                ]
            )
    blocks: list[Para | Table | Image] = [
        Para(
            "What the cost model needs: CPU time per request for the server runtimes (sum over the "
            "server's process "
            "tree over the measured window, warm-up excluded, divided by its requests) and "
            "Lambda's billed "
            "duration (the handler's duration rounded up to 1 ms; on a cold start the Init Duration "
            "is billed too, "
            "as for on-demand ZIP functions since August 2025). For the local Lambda the front's CPU is the "
            "emulated API Gateway and Runtime API, which AWS does not bill to the function."
        )
    ]
    if rows:
        blocks.append(Table(["runtime", "figure", "median / value (ms)", "detail", "source"], rows))
    return Section(SECTIONS[5], blocks)


def _headroom(results: dict[str, Any]) -> Section:
    h = results.get("headroom")
    if not h:
        return Section(SECTIONS[6], [Para("The headroom check was skipped in this run.")])
    verdict = "kept up" if h["kept_up"] else "did NOT keep up — treat the highest rates with suspicion"
    return Section(
        SECTIONS[6],
        [
            Para(
                f"Against a trivial local server the generator was driven at {h['rate_rps']:g} req/s "
                "(2× the highest "
                f"rate used) and achieved {h['achieved_rps']:.0f} req/s, p99 latency "
                f"{_ms(h['latency_ms']['p99'])} ms, "
                f"send lag p99 {_ms(h['send_lag_ms']['p99'])} ms; its own CPU was "
                f"{h['generator_cpu_s']:.2f} s "
                f"({100 * h['generator_cpu_share']:.0f} % of one core, "
                f"{h['generator_cpu_ms_per_request']:.3f} ms per "
                f"request, from time.process_time): it **{verdict}** ({results['source'].split(' (')[0]})."
            )
        ],
    )


def _cost(results: dict[str, Any], out: Path) -> tuple[Section, dict[str, Any]]:
    cost = cost_section(results, out, Path(results["options"]["cost_profile"]))
    blocks: list[Para | Table | Image] = []
    if not cost.get("available"):
        blocks.append(Para(f"No cost figures in this report: {cost['note']}."))
        return Section(SECTIONS[7], blocks), cost
    est = cost["estimate"]
    measured = {k: v for k, v in cost["profile"].get("provenance", {}).items() if v != "profile"}
    blocks.append(
        Para(
            f"**Modeled** by compare.cost from the list-price snapshot {est['prices']['snapshot']} "
            f"({est['prices']['snapshot_date']}) for the profile `{Path(cost['base_profile']).name}`, "
            "with these inputs "
            f"taken from this run: {', '.join(f'{k} ({v})' for k, v in sorted(measured.items())) or 'none'}. "
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
    blocks.append(
        Table(
            ["runtime", "option", "USD/month", "USD/month with shared", "USD per 1000 orders"],
            rows,
            caption=f"modeled, {est['region']}; {est['workload']['monthly_requests']:.0f} requests/month",
        )
    )
    blocks.append(Para(f"Recommendation (modeled): {est['recommendation']['reason']}"))
    if cost.get("chart"):
        blocks.append(Image(cost["chart"], "Break-even (modeled by compare.cost from list prices)"))
    return Section(SECTIONS[7], blocks), cost


def _machine(results: dict[str, Any]) -> Section:
    p = results["provenance"]
    rows = [
        ["date", p["date_utc"]],
        ["platform", p["platform"]],
        ["CPUs", f"{p['cpu_count']} × {p['cpu_model']}"],
        ["memory", f"{p['memory_gb']} GB"],
        ["load average at the end", ", ".join(f"{x:.2f}" for x in p["load_average"])],
        ["git revision", str(p["git_revision"])],
        ["wall time", f"{results['wall_s']:.0f} s"],
    ]
    rows += [[name, version] for name, version in p["versions"].items()]
    return Section(
        SECTIONS[8],
        [
            Table(["", ""], rows),
            Para(
                f"Reproduce with `{p['command']}` (full argv: `{' '.join(p['argv'])}`); the raw "
                "figures are in "
                "`results.json` next to this file."
            ),
        ],
    )


def build_sections(results: dict[str, Any], out: Path) -> tuple[list[Section], dict[str, Any]]:
    charts: dict[str, Path | None] = {
        "latency": latency_chart(results, out / "latency_percentiles.png"),
        "capacity": capacity_chart(results, out / "throughput_vs_p99.png"),
        "cold": cold_start_chart(results, out / "cold_starts.png"),
    }
    cost_block, cost = _cost(results, out)
    sections = [
        _intro(results),
        _summary(results),
        _latency(results, charts),
        _capacity(results, charts),
        _cold(results, charts),
        _cpu(results),
        _headroom(results),
        cost_block,
        _machine(results),
    ]
    return sections, cost


def write_report(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write report.md, report.html, the charts and results.json (with the cost section) into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    sections, cost = build_sections(results, out)
    results["cost"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in cost.items()}
    files = {
        "markdown": out / "report.md",
        "html": out / "report.html",
        "json": out / "results.json",
    }
    files["markdown"].write_text(to_markdown(TITLE, sections), encoding="utf-8")
    files["html"].write_text(to_html(TITLE, sections), encoding="utf-8")
    files["json"].write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return files
