"""Hand-built arrivals and service draws, so the simulators can be checked against known answers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from compare.day.requests import Draws
from compare.day.traffic import Arrivals


def arrivals(times: Sequence[float]) -> Arrivals:
    t = np.asarray(sorted(times), dtype=float)
    return Arrivals(t, np.zeros(len(t), dtype=np.int64), ("menu",))


def draws(n: int, cpu_s: float, io_s: float = 0.0, hop_s: float = 0.0) -> Draws:
    return Draws(np.full(n, cpu_s), np.full(n, io_s), np.full(n, hop_s))
