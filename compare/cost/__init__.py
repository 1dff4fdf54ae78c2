"""Cost model: what Lambda, Fargate and EC2 cost per month for a café's workload profile.

`estimate(profile, mode=None)` returns one JSON-ready dict, the runtimes priced in ``mode`` (push or
polling; default the profile's own) and the recommendation weighing both; `breakeven_chart(result,
path)` draws its break-even curves. Every figure is modeled from an offline price snapshot (see
prices/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compare.cost.model import estimate


def breakeven_chart(result: dict[str, Any], path: str | Path, footer: str | None = None) -> Path:
    """Write the break-even PNG (matplotlib is imported only when a chart is asked for); `footer` is
    the provenance line stamped on it (default: the price snapshot and `make cost`)."""
    from compare.cost.chart import breakeven_chart as draw

    return draw(result, path, footer)


__all__ = ["breakeven_chart", "estimate"]
