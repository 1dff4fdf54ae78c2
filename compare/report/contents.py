"""The report's sections in reading order: one module each, each with its TITLE and section()."""

from __future__ import annotations

from collections.abc import Callable

from compare.report import (
    capacity,
    coldstarts,
    cost,
    cpu,
    day,
    headroom,
    intro,
    latency,
    machine,
    modes,
    overview,
    projection,
    sensitivity,
    steady,
    verdict,
)
from compare.report.charts import Charts
from compare.report.document import Section
from compare.results import RunResults

MODULES = (
    verdict,
    sensitivity,
    intro,
    overview,
    projection,
    latency,
    steady,
    capacity,
    modes,
    coldstarts,
    day,
    cpu,
    headroom,
    cost,
    machine,
)
SECTIONS: tuple[Callable[[RunResults, Charts], Section], ...] = tuple(m.section for m in MODULES)
TITLES = tuple(m.TITLE for m in MODULES)
