"""Latency distributions as data: a figure's ``value`` spec becomes something we can sample.

Specs (as in the overheads file): ``{"dist": "lognormal", "median", "p90" | "p99"}``,
``{"dist": "uniform", "low", "high"}``, ``{"dist": "constant", "value"}``, or measured samples
(``Empirical``). Sampling always takes the caller's numpy ``Generator``, so results are seeded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

#: Standard normal quantiles: a lognormal's sigma follows from its median and one upper percentile.
Z = {"p90": 1.2815515655446004, "p99": 2.3263478740408408}


class DistributionError(ValueError):
    """A distribution spec is malformed (unknown kind, missing or impossible parameters)."""


class Distribution(Protocol):
    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class Constant:
    value: float

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        return np.full(n, float(self.value))

    def describe(self) -> str:
        return f"{self.value:g}"


@dataclass(frozen=True)
class Uniform:
    low: float
    high: float

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        return rng.uniform(self.low, self.high, n)

    def describe(self) -> str:
        return f"uniform {self.low:g}–{self.high:g}"


@dataclass(frozen=True)
class LogNormal:
    """Parameterised by its median and sigma of the underlying normal."""

    median: float
    sigma: float

    @classmethod
    def from_percentile(cls, median: float, upper: float, which: str) -> LogNormal:
        if median <= 0 or upper < median:
            raise DistributionError(f"lognormal needs 0 < median ≤ {which} (got {median}, {upper})")
        return cls(median, math.log(upper / median) / Z[which])

    def quantile(self, q: float) -> float:
        from statistics import NormalDist

        return self.median * math.exp(self.sigma * NormalDist().inv_cdf(q))

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        return rng.lognormal(math.log(self.median), self.sigma, n)

    def describe(self) -> str:
        return f"lognormal median {self.median:g}, p99 {self.quantile(0.99):.3g}"


@dataclass(frozen=True)
class Empirical:
    """Measured samples, resampled with replacement (a bootstrap of what was measured)."""

    samples: tuple[float, ...]

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        return rng.choice(np.asarray(self.samples, dtype=float), size=n, replace=True)

    def describe(self) -> str:
        arr = np.asarray(self.samples)
        return f"{len(arr)} samples, median {np.median(arr):.3g}, p99 {np.percentile(arr, 99):.3g}"


def from_spec(spec: Mapping[str, Any] | float | Sequence[float]) -> Distribution:
    """A distribution from a figure's ``value`` (a bare number is a constant, a list is samples)."""
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        return Constant(float(spec))
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        values = tuple(float(v) for v in spec)
        if not values:
            raise DistributionError("empirical distribution needs at least one sample")
        return Empirical(values)
    if not isinstance(spec, Mapping):
        raise DistributionError(f"not a distribution spec: {spec!r}")
    kind = spec.get("dist")
    try:
        if kind == "constant":
            return Constant(float(spec["value"]))
        if kind == "uniform":
            low, high = float(spec["low"]), float(spec["high"])
            if high < low:
                raise DistributionError(f"uniform needs low ≤ high (got {low}, {high})")
            return Uniform(low, high)
        if kind == "lognormal":
            which = "p99" if "p99" in spec else "p90"
            return LogNormal.from_percentile(float(spec["median"]), float(spec[which]), which)
    except KeyError as exc:
        raise DistributionError(f"{kind} distribution needs {exc.args[0]!r}") from exc
    raise DistributionError(f"unknown distribution kind {kind!r}")


@dataclass(frozen=True)
class Sum:
    """Independent parts drawn separately and added (e.g. boot + install + health checks)."""

    parts: tuple[Distribution, ...]

    def sample(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        total = np.zeros(n)
        for part in self.parts:
            total += part.sample(rng, n)
        return total

    def describe(self) -> str:
        return " + ".join(p.describe() for p in self.parts)
