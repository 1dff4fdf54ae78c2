"""Section: the load generator's headroom against a trivial local server."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Para, Section
from compare.report.format import ms
from compare.results import RunResults

TITLE = "Generator headroom"


def section(results: RunResults, charts: Charts) -> Section:
    h = results.headroom
    if h is None:
        return Section(TITLE, [Para("The headroom check was skipped in this run.")])
    verdict = "kept up" if h.kept_up else "did NOT keep up — treat the highest rates with suspicion"
    return Section(
        TITLE,
        [
            Para(
                f"Against a trivial local server the generator was driven at {h.rate_rps:g} req/s "
                f"(2× the highest rate used) and achieved {h.achieved_rps:.0f} req/s, p99 latency "
                f"{ms(h.latency_ms.p99)} ms, send lag p99 {ms(h.send_lag_ms.p99)} ms; its own CPU was "
                f"{h.generator_cpu_s:.2f} s ({100 * h.generator_cpu_share:.0f} % of one core, "
                f"{h.generator_cpu_ms_per_request:.3f} ms per request, from time.process_time): "
                f"it **{verdict}** ({h.source})."
            )
        ],
    )
