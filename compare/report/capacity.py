"""Section: capacity, the rate steps until the SLO breaks."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Block, Bullets, Image, Para, Section, Table, literal
from compare.report.format import errors, ms, slo
from compare.report.warnings import mark
from compare.results import DELAYED_DYNAMODB_LABEL, CapacityStep, RunResults, StoreWindow

TITLE = "Capacity"
HEADERS = [
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
]


def _verdict(step: CapacityStep) -> str:
    if not step.verdict.ok:
        return f"✗ {step.verdict.reason}"
    first = step.first_attempt
    return f"✓ (on a second try; the first: {first.verdict.reason})" if first else "✓"


def _row(results: RunResults, name: str, s: CapacityStep) -> list[str]:
    cpu = s.server_cpu.ms_per_request.total if s.server_cpu else None
    return [
        f"{s.target_rate_rps:g}",
        f"{s.throughput_rps:.0f}",
        ms(s.latency_ms.p50),
        mark(results, name, "p99", ms(s.latency_ms.p99)),
        ms(s.latency_ms.max),
        errors(s),
        ms(cpu),
        ms(s.send_lag_ms.p99),
        f"{100 * s.generator_cpu_share:.0f} %",
        _verdict(s),
    ]


def section(results: RunResults, charts: Charts) -> Section:
    opts = results.options
    blocks: list[Block] = [
        Para(
            f"Rate steps of {opts.step_s:g} s (after {opts.warmup_s:g} s warm-up each) through "
            f"{', '.join(f'{r:g}' for r in opts.rates)} req/s, stopping at the first step whose p99 "
            f"exceeds the SLO ({slo(results)}), that has errors, or that delivers under 90 % of what it "
            "sent. Send lag is how late the generator dispatched requests (their latency still counts "
            "from the intended time); the generator shares this machine's CPUs with the servers."
        )
    ]
    for name, entry in results.runtimes.items():
        cap = entry.capacity
        if cap is None:
            continue
        sustainable = f"{cap.sustainable_text()} req/s" if cap.sustainable_rps else "none of the steps"
        sustainable = mark(results, name, "sustainable", sustainable)
        blocks.append(
            Table(
                HEADERS,
                [_row(results, name, s) for s in cap.steps],
                caption=f"{name} — {entry.source}: highest sustainable {sustainable} "
                f"(stopped: {cap.stopped})",
            )
        )
    if charts.capacity is not None:
        c = charts.capacity
        blocks.append(Image(c.path, f"Achieved against offered rate, and p99 — {literal(c.footer)}", c.alt))
    blocks += deployed_path_blocks(results)
    return Section(TITLE, blocks)


DEPLOYED_HEADERS = [
    "runtime",
    "SQLite capacity req/s",
    "deployed-path capacity req/s",
    "limited by",
    "p50 / p99 ms at the reference rate",
    "most in flight / limit",
    "store kept up",
]
STEP_HEADERS = [
    "rate req/s",
    "achieved",
    "p50 ms",
    "p99 ms",
    "server CPU vCPU",
    "in flight",
    "store lateness p99 ms",
    "verdict",
]
MODEL_HEADERS = [
    "runtime",
    "projected p50 / p99 ms (no front door)",
    "emulated p50 / p99 ms",
    "within ±20 %",
    "input that disagrees",
]


def _store_text(store: StoreWindow | None) -> str:
    if store is None:
        return "–"
    return f"{store.excess_p99_ms:g}{'' if store.kept_up else ' (fell behind)'}"


def deployed_path_blocks(results: RunResults) -> list[Block]:
    """The deployed path (each runtime in its envelope against DynamoDB delayed as modeled): its
    capacity beside the SQLite one, the bound each runtime hit and what would raise it, and the
    projection against the emulation at the reference rate."""
    paths = {name: e for name, e in results.runtimes.items() if e.deployed_path is not None}
    if not paths:
        return []
    opts = results.options
    blocks: list[Block] = [
        Para(
            "**The deployed path** — "
            f"{DELAYED_DYNAMODB_LABEL}: each runtime in its envelope on DynamoDB (a moto server outside "
            "the envelopes), every call held for a draw of the same per-operation latency the projection "
            "uses (`dynamodb.<Op>.ms` in the overheads file; these are modeled figures, not AWS "
            f"measurements); the café mix at {opts.reference_rate:g} req/s, then steps of "
            f"{opts.deployed_step_s or 0:g} s through {', '.join(f'{r:g}' for r in opts.deployed_rates)} "
            "req/s against the same SLO. On SQLite a request waits on nothing; here each waits on its "
            "DynamoDB calls, so a runtime's concurrency model decides how many it serves at once. "
            "*Most in flight* is what the store saw: DynamoDB calls from the runtime at once (each "
            "request makes its calls one after another, so a lower bound on the requests it held)."
        )
    ]
    if results.store_checks:
        checked = [
            f"{sc.achieved_calls_rps:g} of {sc.rate_calls_rps:g} GetItem calls/s, p50 "
            f"{sc.latency_p50_ms:g} ms and p99 {sc.latency_p99_ms:g} ms at the client, moto's lateness "
            "beyond its draws p99 "
            f"{sc.store.excess_p99_ms:g} ms: {'kept up' if sc.kept_up else 'did not keep up'}"
            for sc in results.store_checks
        ]
        blocks.append(
            Para(
                "The delayed store's own throughput, checked before the runtimes met it (the highest "
                f"step's calls, then lower steps until one kept up; {results.store_checks[0].source}): "
                + "; ".join(checked)
                + "."
            )
        )
    hops = sorted({e.deployed_path.hop_ms for e in paths.values() if e.deployed_path is not None})
    if hops and hops[-1] > 0:
        blocks.append(
            Para(
                f"Taken off each draw: {', '.join(f'{h:.2f}' for h in hops)} ms, the hop a boto3 client "
                "makes to the local moto beyond what it holds a call for (wall time less the client's "
                "CPU less moto's hold, median; AWS's per-call figures have no such hop)."
            )
        )
    rows: list[list[str]] = []
    bounds: list[str] = []
    for name, entry in paths.items():
        path = entry.deployed_path
        assert path is not None
        sqlite = entry.capacity.sustainable_text() if entry.capacity is not None else "–"
        rows.append(
            [
                name,
                sqlite,
                path.capacity_text(),
                path.limited_by or "not reached",
                f"{ms(path.p50_ms)} / {ms(path.p99_ms)}",
                f"{path.in_flight_max} / {path.concurrency_limit if path.concurrency_limit else '–'}",
                "yes" if path.store_kept_up else "no",
            ]
        )
        bounds.append(
            f"**{name}** ({path.concurrency_basis}; CPU quota here {path.cpu_quota_vcpu or 0:g} vCPU): "
            f"{literal(path.reason)}. What would raise it: {literal(path.raise_by)}."
            + (f" Another thread or worker count? {literal(path.settings)}." if path.settings else "")
        )
    blocks.append(
        Table(
            DEPLOYED_HEADERS,
            rows,
            caption=f"Capacity on SQLite and on the deployed path — {DELAYED_DYNAMODB_LABEL}",
        )
    )
    blocks.append(Bullets(bounds))
    for name, entry in paths.items():
        path = entry.deployed_path
        assert path is not None
        step_rows = [
            [
                f"{st.rate_rps:g}",
                f"{st.throughput_rps:.0f}",
                ms(st.p50_ms),
                ms(st.p99_ms),
                "–" if st.cpu_vcpu is None else f"{st.cpu_vcpu:.2f}",
                str(st.in_flight_max),
                _store_text(st.store),
                "✓" if st.ok else f"✗ {st.verdict} — {st.limited_by}: {st.reason}",
            ]
            for st in path.steps
        ]
        blocks.append(Table(STEP_HEADERS, step_rows, caption=f"{name} — deployed path steps ({path.source})"))
    model_rows: list[list[str]] = []
    notes: list[str] = []
    for name, entry in paths.items():
        check = entry.deployed_path.model if entry.deployed_path is not None else None
        if check is None:
            continue
        model_rows.append(
            [
                name,
                f"{ms(check.modeled_p50_ms)} / {ms(check.modeled_p99_ms)}",
                f"{ms(check.emulated_p50_ms)} / {ms(check.emulated_p99_ms)}",
                "yes" if check.agrees else "no",
                literal(check.disagrees) if check.disagrees else "–",
            ]
        )
        if check.evidence:
            notes.append(f"**{name}**: " + "; ".join(literal(e) for e in check.evidence))
    if model_rows:
        blocks.append(
            Para(
                "**Model against emulation** at the reference rate: the projection (modeled from measured "
                "inputs) without its front door, which the emulation lacks, beside the emulated deployed "
                "path (measured here). Where they differ by more than 20 %, the input the run measured "
                "furthest from the projection's is named; what each input measured, in ms per request:"
            )
        )
        blocks.append(
            Table(MODEL_HEADERS, model_rows, caption="Projection (modeled) and emulation (measured here)")
        )
        if notes:
            blocks.append(Bullets(notes))
    return blocks
