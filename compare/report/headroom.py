"""Section: the load generator's headroom against a trivial local server."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Para, Section
from compare.report.format import ms
from compare.report.warnings import generator_state
from compare.results import RunResults

TITLE = "Generator headroom"


def section(results: RunResults, charts: Charts) -> Section:
    h = results.headroom
    record = _record(results)
    if h is None:
        return Section(TITLE, [Para("The headroom check was skipped in this run."), *record])
    kept, state = generator_state(results)
    verdict = state if kept is not False else f"**{state}** — the figures it affects are marked ⚠"
    return Section(
        TITLE,
        [
            Para(
                f"Against a trivial local server the generator was driven at {h.rate_rps:g} req/s "
                f"(2× the highest rate the run planned) and achieved {h.achieved_rps:.0f} req/s, p99 latency "
                f"{ms(h.latency_ms.p99)} ms, send lag p99 {ms(h.send_lag_ms.p99)} ms; its own CPU was "
                f"{h.generator_cpu_s:.2f} s ({100 * h.generator_cpu_share:.0f} % of one core, "
                f"{h.generator_cpu_ms_per_request:.3f} ms per request, from time.process_time) "
                f"({h.source}). The generator {verdict}."
            ),
            *record,
        ],
    )


def _record(results: RunResults) -> list[Para]:
    gen = results.generator
    if gen is None:
        return [Para("No generator record in this run (an older results file).")]
    kept, state = generator_state(results)
    text = (
        f"Generator record ({gen.source}): {gen.processes} process(es), highest rate used "
        f"{gen.highest_rate_rps:g} req/s; it {f'**{state}**' if kept is False else state}."
    )
    if gen.kept_up is False:
        text += (
            " Affected figures (marked ⚠ in the tables): " + ("; ".join(gen.affected) or "not listed") + "."
        )
    return [Para(text)]
