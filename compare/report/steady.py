"""Section: how each runtime reached a steady state before its reference window, and the first
minute after idle measured as its own figure beside the steady one."""

from __future__ import annotations

from compare.load.causes import describe, not_the_app
from compare.report.charts import Charts
from compare.report.document import Block, Para, Section, Table
from compare.report.format import ms
from compare.results import FirstMinute, RunResults, RuntimeResult, Settling

TITLE = "Warm-up and the first minute after idle"


def steady_p99(entry: RuntimeResult) -> tuple[float, str] | None:
    """The runtime's steady p99 and where it comes from: the reference window when it was steady,
    else the stable intervals that ended the settling; None when no steady state was reached."""
    ref, settling = entry.reference, entry.settling
    if ref is not None and ref.steady:
        return ref.latency_ms.p99, "reference window"
    if settling is not None and settling.steady and settling.steady_latency_ms is not None:
        return settling.steady_latency_ms.p99, "the stable intervals that ended its settling"
    return None


def settling_text(settling: Settling) -> str:
    outcome = "steady" if settling.steady else "NOT steady"
    return f"{outcome} after {settling.seconds:.1f} s: {settling.reason}"


def cold_text(name: str, fm: FirstMinute) -> str:
    """Cold starts met: a count, 'not readable' (Lambda without REPORT lines) or '–' (a server
    runtime: no start on the request path)."""
    if fm.cold_starts is not None:
        return str(fm.cold_starts)
    return "not readable" if name.lower() == "lambda" else "–"


def first_minute_text(name: str, fm: FirstMinute) -> str:
    """One line: what the runtime met in its first seconds after idle."""
    cold = f"cold starts {cold_text(name, fm)}"
    throttles = "" if fm.throttles is None else f", {fm.throttles} throttles at the front door"
    foreign = sum(not_the_app(fm.errors_by_cause).values())
    app = fm.errors - foreign
    return (
        f"{name}: {cold}{throttles}, {foreign} errors the café did not answer, {app} application "
        f"errors, p99 {ms(fm.latency_ms.p99)} ms"
    )


def _settle_rows(results: RunResults) -> list[list[str]]:
    rows = []
    for name, entry in results.runtimes.items():
        s = entry.settling
        if s is None:
            continue
        ref = entry.reference
        window = "–" if ref is None or ref.steady is None else ("steady" if ref.steady else "NOT steady")
        if ref is not None and ref.remeasured:
            # A round after settling that was a transient was measured once more: named, not hidden.
            window += "; measured again, a transient first: " + "; ".join(ref.remeasured)
        held = [i for i in s.intervals if i.phase == "hold"]
        rows.append(
            [
                name,
                "yes" if s.steady else "**no**",
                f"{s.seconds:.1f} (ramp {s.ramp_s:g}, {len(held)} held)",
                s.reason,
                s.signal,
                ms(s.steady_latency_ms.p99) if s.steady_latency_ms is not None else "none reached",
                window,
                s.source,
            ]
        )
    return rows


def _first_minute_rows(results: RunResults) -> list[list[str]]:
    rows = []
    for name, entry in results.runtimes.items():
        fm = entry.first_minute
        if fm is None:
            continue
        steady = steady_p99(entry)
        first = fm.intervals[0] if fm.intervals else None
        rows.append(
            [
                name,
                f"{fm.seconds:g} s at {fm.rate_rps:g} req/s",
                str(fm.requests),
                cold_text(name, fm),
                "–" if fm.throttles is None else str(fm.throttles),
                describe(fm.errors_by_cause),
                f"{ms(fm.latency_ms.p50)} / {ms(fm.latency_ms.p99)}",
                ms(first.p99_ms) if first is not None else "–",
                f"{ms(steady[0])} ({steady[1]})" if steady else "none reached",
                fm.source,
            ]
        )
    return rows


def section(results: RunResults, charts: Charts) -> Section:
    opts = results.options
    blocks: list[Block] = []
    if not any(e.settling or e.first_minute for e in results.runtimes.values()):
        return Section(TITLE, [Para("This run did not record a warm-up or a first minute (an older run).")])
    first = opts.first_minute_s or 0.0
    blocks.append(
        Para(
            f"Before its reference window each runtime was offered the reference rate "
            f"({opts.reference_rate:g} req/s) **at once after idle for {first:g} s** (the *first minute*, "
            "what a café opening its doors meets every morning: reported here as its own figure and "
            "never mixed into the steady windows), then the rate was **ramped up** (a quarter, half, "
            f"three quarters of it over {opts.ramp_s or 0:g} s) and **held** in "
            f"{opts.settle_interval_s or 0:g}-s intervals until the last {opts.settle_intervals or 0} "
            "showed no new cold start (Lambda, where its REPORT lines are readable), no error the café "
            "did not answer itself (front door, load balancer, transport) and a p99 that stopped "
            f"moving; at most {opts.settle_max_s or 0:g} s. A reference window is *steady* when its "
            "runtime settled before it and nothing but the café answered in it. Errors are counted by "
            "who answered: a throttle or a failed start answered by the front door is not an "
            "application error."
        )
    )
    if results.mode == "local" and first < 60:
        blocks.append(
            Para(
                f"*Measured here:* the local first minute lasts {first:g} s to keep `make compare` short "
                "(the emulated environments start in a fraction of a second); a remote run takes 60 s "
                "by default (`--first-minute-s`)."
            )
        )
    rows = _settle_rows(results)
    if rows:
        blocks.append(
            Table(
                [
                    "runtime",
                    "steady",
                    "took s",
                    "why it stopped",
                    "judged on",
                    "steady p99 ms",
                    "reference window",
                    "source",
                ],
                rows,
                caption="reaching a steady state before the reference window",
            )
        )
    rows = _first_minute_rows(results)
    if rows:
        blocks.append(
            Table(
                [
                    "runtime",
                    "first minute",
                    "requests",
                    "cold starts met",
                    "throttles",
                    "errors by cause",
                    "p50 / p99 ms",
                    "first interval p99 ms",
                    "steady p99 ms",
                    "source",
                ],
                rows,
                caption="the transient after idle beside the steady state",
            )
        )
    for name, entry in results.runtimes.items():
        fm = entry.first_minute
        if fm is None:
            continue
        p99s = " / ".join(ms(i.p99_ms) for i in fm.intervals)
        errs = " / ".join(str(sum(not_the_app(i.errors_by_cause).values())) for i in fm.intervals)
        if fm.cold_starts is not None:
            colds = " / ".join(str(i.cold_starts or 0) for i in fm.intervals)
            colds = f"; cold starts {colds} (read from {fm.cold_start_signal})"
        else:
            colds = f"; cold starts: {cold_text(name, fm)} (judged on {fm.cold_start_signal})"
        blocks.append(
            Para(
                f"{name}, first minute by interval ({fm.source}; idle: {fm.idle}): p99 {p99s} ms; "
                f"errors the café did not answer {errs}{colds}."
            )
        )
    return Section(TITLE, blocks)
