"""How every chart of the comparison looks: one colour per runtime, plain log ticks, one footer.

The report's charts, the cost model's break-even chart and the day simulation's chart all draw
with these, so Lambda is the same orange everywhere and each PNG says where its numbers came from
in the same words, both on the image and in its PNG metadata (read back by the tests).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers or CI

import matplotlib.pyplot as plt
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

# One palette, colour-blind safe (Okabe–Ito); Lambda keeps an orange, as in AWS's own icons.
RUNTIME_COLORS = {"lambda": "#E69F00", "fargate": "#0072B2", "ec2": "#009E73"}
OTHER_COLORS = ("#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SLO_COLOR = "#D55E00"
FOOTER_KEY = "Description"  # the PNG text chunk holding the provenance footer


def runtime_color(name: str, index: int = 0) -> str:
    """The runtime's colour; a name outside the three ('lambda rest', a remote target) by its first word."""
    key = name.split()[0].lower() if name else ""
    return RUNTIME_COLORS.get(key, OTHER_COLORS[index % len(OTHER_COLORS)])


def plain_number(value: float) -> str:
    """2, 5, 10, 20, 1,000, 2 M — never 2×10⁰."""
    if value >= 1e6:
        return f"{value / 1e6:g} M"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


def plain_log_axis(axis: Axis, subs: tuple[float, ...] = (1.0, 2.0, 5.0)) -> None:
    """Log ticks at 1-2-5 steps (or `subs`: (1.0,) for decades on a wide axis), as plain numbers."""
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: plain_number(v)))
    axis.set_minor_formatter(NullFormatter())


def provenance_footer(label: str, details: str, command: str) -> str:
    """The footer every chart carries: where the figures come from, what, and how to redraw them."""
    return f"{label} · {details} · reproduce: {command}"


def finish(fig: Figure, footer: str, path: Path) -> Path:
    """Stamp `footer` on the chart and into its metadata, write the PNG and free the figure."""
    fig.text(0.01, 0.005, footer, fontsize=6.5, color="#444", ha="left", va="bottom", wrap=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={FOOTER_KEY: footer})
    plt.close(fig)
    return path


def read_footer(path: Path) -> str | None:
    """The provenance footer stored in a chart's PNG metadata (None when it has none)."""
    from PIL import Image

    with Image.open(path) as image:
        text = image.info.get(FOOTER_KEY)
    return str(text) if text is not None else None
