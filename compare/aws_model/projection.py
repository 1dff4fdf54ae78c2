"""Projected latency on AWS: measured service time + the hops each runtime has there + DynamoDB
round trips × per-call latency, combined by Monte Carlo (never by adding percentiles).

``project`` is a pure function of plain inputs; ``hops_for`` names the front doors of each
runtime as deployed, and ``dynamodb_calls`` draws the per-call figures from the overheads file.
The result is *modeled from measured inputs*: every input is listed with its source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from compare.aws_model.distributions import Distribution
from compare.aws_model.overheads import Figure, Overheads

LABEL = "modeled from measured inputs"
DEFAULT_DRAWS = 200_000


@dataclass(frozen=True)
class Component:
    """One addend of the request's latency: ``count`` independent draws of ``dist`` (a fractional
    count is a mean: the whole part always, one more with the fractional probability)."""

    name: str
    dist: Distribution
    source: str
    count: float = 1.0
    value: object = None

    def draw(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        whole = int(self.count)
        total = np.zeros(n)
        for _ in range(whole):
            total += self.dist.sample(rng, n)
        frac = self.count - whole
        if frac > 1e-12:
            extra = self.dist.sample(rng, n)
            total += np.where(rng.random(n) < frac, extra, 0.0)
        return total

    def to_input(self) -> dict[str, object]:
        value = self.value if self.value is not None else self.dist.describe()
        if self.count != 1.0:
            value = f"{self.count:g} × {value}"
        return {"name": self.name, "value": value, "source": self.source}


def from_figure(figure: Figure, count: float = 1.0) -> Component:
    row = figure.to_input()
    return Component(figure.name, figure.distribution(), figure.label(), count, row["value"])


def hops_for(
    runtime: str, overheads: Overheads, *, api: str = "rest", scale_out: bool = False
) -> list[Component]:
    """The network hops in front of a runtime as deployed: API Gateway (REST by default) for Lambda,
    the ALB for Fargate and for EC2 in scale-out mode, nothing for a single EC2 instance."""
    if runtime == "lambda":
        return [] if api in ("url", "none") else [from_figure(overheads[f"apigw.{api}.added_ms"])]
    if runtime == "fargate" or (runtime == "ec2" and scale_out):
        return [from_figure(overheads["alb.added_ms"])]
    if runtime == "ec2":
        return []
    raise ValueError(f"unknown runtime {runtime!r}")


def dynamodb_calls(round_trips: Mapping[str, float], overheads: Overheads) -> list[Component]:
    """One component per DynamoDB call kind, ``count`` calls of it per request."""
    return [
        from_figure(overheads[f"dynamodb.{call}.ms"], count)
        for call, count in sorted(round_trips.items())
        if count > 0
    ]


def project(
    service: Component,
    hops: Sequence[Component],
    calls: Sequence[Component],
    *,
    seed: int = 0,
    draws: int = DEFAULT_DRAWS,
) -> dict[str, object]:
    """``{"p50_ms", "p99_ms", "inputs": [{"name", "value", "source"}], "label"}`` of the sum of the
    independent components, each request drawing its own value of every component."""
    rng = np.random.default_rng(seed)
    total = service.draw(rng, draws)
    for component in (*hops, *calls):
        total += component.draw(rng, draws)
    return {
        "p50_ms": round(float(np.percentile(total, 50)), 3),
        "p99_ms": round(float(np.percentile(total, 99)), 3),
        "inputs": [c.to_input() for c in (service, *hops, *calls)],
        "label": LABEL,
        "draws": draws,
        "seed": seed,
    }


def project_mix(
    service: Component,
    hops: Sequence[Component],
    mix: Mapping[str, float],
    round_trips: Mapping[str, Mapping[str, float]],
    overheads: Overheads,
    *,
    seed: int = 0,
    draws: int = DEFAULT_DRAWS,
) -> dict[str, object]:
    """The projection of a traffic mix: each simulated request is one operation, drawn by its share
    of ``mix``, with that operation's own DynamoDB round trips (``round_trips[op]``)."""
    rng = np.random.default_rng(seed)
    ops = sorted(op for op, share in mix.items() if share > 0)
    shares = np.asarray([mix[op] for op in ops], dtype=float)
    which = rng.choice(len(ops), size=draws, p=shares / shares.sum())
    total = service.draw(rng, draws)
    for component in hops:
        total += component.draw(rng, draws)
    calls_by_op = {op: dynamodb_calls(round_trips.get(op, {}), overheads) for op in ops}
    for index, op in enumerate(ops):
        mask = which == index
        for component in calls_by_op[op]:
            total[mask] += component.draw(rng, int(mask.sum()))
    trips = {op: dict(round_trips.get(op, {})) for op in ops}
    used = {c.name: c for op in ops for c in calls_by_op[op]}
    inputs = [c.to_input() for c in (service, *hops)]
    inputs += [{**c.to_input(), "value": c.dist.describe()} for c in used.values()]
    inputs.append(
        {"name": "operation mix", "value": {op: round(float(mix[op]), 6) for op in ops}, "source": "caller"}
    )
    inputs.append(
        {"name": "dynamodb.round_trips", "value": trips, "source": overheads["dynamodb.round_trips"].label()}
    )
    return {
        "p50_ms": round(float(np.percentile(total, 50)), 3),
        "p99_ms": round(float(np.percentile(total, 99)), 3),
        "inputs": inputs,
        "label": LABEL,
        "draws": draws,
        "seed": seed,
    }
