"""The overheads file: what AWS adds around the code, each figure with its source, date and kind.

Like the price snapshots (compare/cost/prices/), figures live in a dated JSON file next to this
module; ``load()`` reads the newest one. A remote-mode measurement replaces a figure through
``Overheads.replace`` with kind "remote mode", so the provenance travels with the value.

A composite time (new capacity ready on AWS: ``capacity_ready`` in the file) is never one figure
with one kind: ``Overheads.capacity_ready(runtime)`` gives its parts, each a figure with its own
kind (EC2: a published launch → SSH time, then the user data and the ALB's health checks, both
assumptions).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from compare.aws_model.distributions import Distribution, from_spec

DATA_DIR = Path(__file__).resolve().parent
KINDS = (
    "published measurement",
    "AWS documentation",
    "remote mode",
    "measured here",
    "counted from the code",
    "assumption",
)


class OverheadsError(LookupError):
    """A figure is missing from the overheads file, or carries an unknown kind."""


@dataclass(frozen=True)
class Figure:
    name: str
    value: Any
    unit: str
    source: str
    date: str
    kind: str
    range: tuple[float, float] | None = None

    def distribution(self) -> Distribution:
        return from_spec(self.value)

    def typical(self) -> float:
        """The one number a sentence quotes: a distribution's median, a range's midpoint, a constant."""
        value = self.value
        if value.get("dist") == "uniform":
            return (float(value["low"]) + float(value["high"])) / 2
        return float(value.get("median", value.get("value", 0.0)))

    def label(self) -> str:
        """Short provenance text: what kind of figure it is, and from where."""
        return f"{self.kind}: {self.source} ({self.date})"

    def to_input(self) -> dict[str, Any]:
        """The ``{"name", "value", "source"}`` row a projection lists among its inputs."""
        value = self.value
        if isinstance(value, dict) and "dist" in value:
            value = f"{self.distribution().describe()} {self.unit}"
        return {"name": self.name, "value": value, "source": self.label()}


@dataclass(frozen=True)
class Overheads:
    figures: dict[str, Figure]
    path: Path | None = None
    #: per runtime, the figures whose sum is new capacity ready on AWS, in order
    ready: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Figure:
        try:
            return self.figures[name]
        except KeyError as exc:
            raise OverheadsError(f"figure {name!r} is not in {self.name}") from exc

    def capacity_ready(self, runtime: str) -> tuple[Figure, ...]:
        """The parts of new capacity's time to serve on AWS for `runtime`, each with its own kind."""
        if runtime not in self.ready:
            raise OverheadsError(f"no capacity_ready parts for {runtime!r} in {self.name}")
        return tuple(self[name] for name in self.ready[runtime])

    @property
    def name(self) -> str:
        return self.path.name if self.path else "in-memory overheads"

    def replace(self, name: str, value: Any, source: str, date: str, kind: str = "remote mode") -> Overheads:
        """A copy with one figure replaced (e.g. by a remote-mode measurement)."""
        if kind not in KINDS:
            raise OverheadsError(f"kind must be one of {KINDS}, not {kind!r}")
        old = self[name]
        figures = dict(self.figures)
        figures[name] = replace(old, value=value, source=source, date=date, kind=kind, range=None)
        return Overheads(figures, self.path, self.ready)

    def with_median(self, name: str, median: float) -> Overheads:
        """A copy with a lognormal figure's median moved (its p99 or p90 in proportion): one end
        of an assumption's range, for the verdict's sensitivity."""
        old = self[name]
        value = dict(old.value)
        if value.get("dist") != "lognormal":
            raise OverheadsError(f"{name} is not a lognormal figure")
        ratio = median / float(value["median"])
        value.update({key: float(value[key]) * ratio for key in ("p99", "p90") if key in value})
        value["median"] = median
        figures = dict(self.figures)
        figures[name] = replace(old, value=value)
        return Overheads(figures, self.path, self.ready)


def latest(directory: Path = DATA_DIR) -> Path:
    files = sorted(directory.glob("overheads-*.json"))
    if not files:
        raise OverheadsError(f"no overheads-*.json in {directory}")
    return files[-1]


def parse(data: dict[str, Any], path: Path | None = None) -> Overheads:
    figures: dict[str, Figure] = {}
    for name, spec in data["figures"].items():
        if spec.get("kind") not in KINDS:
            raise OverheadsError(f"{name}: kind must be one of {KINDS}, not {spec.get('kind')!r}")
        rng = spec.get("range")
        figures[name] = Figure(
            name=name,
            value=spec["value"],
            unit=spec["unit"],
            source=spec["source"],
            date=str(spec["date"]),
            kind=spec["kind"],
            range=None if rng is None else (float(rng[0]), float(rng[1])),
        )
    ready = {
        runtime: tuple(str(n) for n in names)
        for runtime, names in data.get("capacity_ready", {}).items()
        if isinstance(names, list)
    }
    for runtime, names in ready.items():
        missing = [n for n in names if n not in figures]
        if missing:
            raise OverheadsError(f"capacity_ready.{runtime}: no figure {', '.join(missing)}")
    return Overheads(figures, path, ready)


def load(path: Path | None = None) -> Overheads:
    path = path or latest()
    return parse(json.loads(path.read_text(encoding="utf-8")), path)
