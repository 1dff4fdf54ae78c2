"""The report's sections in reading order: one module each, each with its TITLE and section()."""

from __future__ import annotations

from collections.abc import Callable

from compare.report import capacity, coldstarts, cost, cpu, headroom, intro, latency, machine, overview
from compare.report.charts import Charts
from compare.report.document import Section
from compare.results import RunResults

SECTIONS: tuple[Callable[[RunResults, Charts], Section], ...] = (
    intro.section,
    overview.section,
    latency.section,
    capacity.section,
    coldstarts.section,
    cpu.section,
    headroom.section,
    cost.section,
    machine.section,
)
TITLES = tuple(
    m.TITLE for m in (intro, overview, latency, capacity, coldstarts, cpu, headroom, cost, machine)
)
