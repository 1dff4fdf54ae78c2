"""Per-request draws for one runtime: CPU (one full core), DynamoDB wait and the front-door hop.

Drawn up front from a seeded generator, so every simulated runtime sees the same arrivals and
its own reproducible service times, whatever order the simulator handles them in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from compare.aws_model.projection import Component
from compare.day.inputs import DayInputs
from compare.day.traffic import Arrivals


@dataclass(frozen=True)
class Draws:
    cpu_s: NDArray[np.float64]
    io_s: NDArray[np.float64]
    hop_s: NDArray[np.float64]


def draw(runtime: str, arrivals: Arrivals, inputs: DayInputs, hops: list[Component], seed: int) -> Draws:
    rng = np.random.default_rng([seed, sum(map(ord, runtime))])
    n = len(arrivals)
    cpu_ms = inputs.cpu_ms[runtime].sample(rng, n)
    io_ms = np.zeros(n)
    for op_index, op in enumerate(arrivals.names):
        mask = arrivals.ops == op_index
        k = int(mask.sum())
        if k == 0:
            continue
        for call, count in sorted(inputs.round_trips.get(op, {}).items()):
            for _ in range(int(count)):
                io_ms[mask] += inputs.call_ms[call].sample(rng, k)
                cpu_ms[mask] += inputs.client_cpu_ms[runtime].sample(rng, k)
    hop_ms = np.zeros(n)
    for hop in hops:
        hop_ms += hop.draw(rng, n)
    return Draws(cpu_ms / 1000.0, io_ms / 1000.0, hop_ms / 1000.0)
