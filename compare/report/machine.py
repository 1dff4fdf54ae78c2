"""Section: the machine, the versions and the command that reproduces the run."""

from __future__ import annotations

from compare.report.charts import Charts
from compare.report.document import Para, Section, Table
from compare.results import RunResults

TITLE = "Machine and reproduction"


def section(results: RunResults, charts: Charts) -> Section:
    p = results.provenance
    rows = [
        ["date", p.date_utc],
        ["platform", p.platform],
        ["CPUs", f"{p.cpu_count} × {p.cpu_model}"],
        ["memory", f"{p.memory_gb} GB"],
        ["load average at the end", ", ".join(f"{x:.2f}" for x in p.load_average)],
        ["git revision", str(p.git_revision)],
        ["wall time", f"{results.wall_s:.0f} s"],
    ]
    rows += [[name, version] for name, version in p.versions.items()]
    return Section(
        TITLE,
        [
            Table(["", ""], rows),
            Para(
                f"Reproduce with `{p.command}` (full argv: `{' '.join(p.argv)}`); the raw figures are "
                "in `results.json` next to this file."
            ),
        ],
    )
