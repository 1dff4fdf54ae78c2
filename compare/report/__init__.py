"""The report under reports/<timestamp>/: report.md, report.html (self-contained) and the PNGs,
written from a run's results (compare.results) without changing them."""

from __future__ import annotations

from pathlib import Path

from compare.report.charts import draw_charts
from compare.report.contents import SECTIONS
from compare.report.document import render_html, to_markdown
from compare.results import RunResults

__all__ = ["write_report"]

TITLE = "Café Compute — latency side by side: Lambda, Fargate, EC2"


def write_report(results: RunResults, out: Path) -> dict[str, Path]:
    """Write report.md, report.html and the charts into `out`; returns the report files."""
    out.mkdir(parents=True, exist_ok=True)
    charts = draw_charts(results, out)
    sections = [section(results, charts) for section in SECTIONS]
    files = {"markdown": out / "report.md", "html": out / "report.html"}
    markdown = to_markdown(TITLE, sections, out)
    files["markdown"].write_text(markdown, encoding="utf-8")
    files["html"].write_text(render_html(TITLE, markdown, out), encoding="utf-8")
    return files
