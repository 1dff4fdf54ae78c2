"""The café's day as arrivals: the cost model's hourly shape, Poisson within each hour, a burst
inside the peak hours, and the café mix of operations: the profile's traffic by route in its mode
(the census of the pages × the café), each route as the operation the comparison records it as
(compare/load/mix.py ROUTE_OPERATIONS, the one table of those)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import simpy
from numpy.typing import NDArray

from compare.cost.live import STREAM_ROUTE
from compare.cost.profile import Profile
from compare.cost.sizing import hourly_rps
from compare.load.mix import ROUTE_OPERATIONS
from compare.load.mix import cafe_mix as generated_mix
from compare.load.workload import DEFAULT_PROFILE

#: The burst fills this fraction of a peak hour at ``burst_factor`` × the hour's mean rate.
BURST_WINDOW = 1 / 6


@dataclass(frozen=True)
class Arrivals:
    times: NDArray[np.float64]  # seconds since midnight, sorted
    ops: NDArray[np.int64]  # index into ``names``
    names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.times)


def cafe_mix(profile: Profile | None = None) -> dict[str, float]:
    """Share of each operation in the café mix of `profile` (the comparison's default profile when
    None): the census of its pages × its café, as the comparison's load generator sends it."""
    if profile is None:
        from compare.cost.profile import load

        return generated_mix(load(DEFAULT_PROFILE), DEFAULT_PROFILE).operation_shares()
    return generated_mix(profile).operation_shares()


#: Opening a live stream asks the store for the subscriber's current state (for the tracking page,
#: its order: the read a poll makes), then holds the connection without a request of its own.
STREAM_OPERATION = "poll"


def mode_mix(profile: Profile) -> dict[str, float]:
    """Share of each operation in the profile's traffic, in its mode (polling or push)."""
    operations = {**ROUTE_OPERATIONS, STREAM_ROUTE: STREAM_OPERATION}
    by_route = profile.traffic.by_route
    total = sum(by_route.values())
    out: dict[str, float] = {}
    for route, count in by_route.items():
        op = operations[route]
        out[op] = out.get(op, 0.0) + count / total
    return dict(sorted(out.items()))


def hourly_rates(profile: Profile) -> list[float]:
    """Mean requests per second in each hour of an open day: the cost model's own figures."""
    return hourly_rps(profile)


def arrivals(profile: Profile, mix: dict[str, float], rng: np.random.Generator) -> Arrivals:
    rates = hourly_rates(profile)
    peaks = profile.schedule.peaks
    burst = profile.schedule.burst_factor
    chunks: list[NDArray[np.float64]] = []
    for hour, rate in enumerate(rates):
        if rate <= 0:
            continue
        start = hour * 3600.0
        if burst > 1 and any(a <= hour < b for a, b in peaks) and burst * BURST_WINDOW < 1:
            # keep the hour's mean: a burst window at burst × rate, the rest slower
            calm = rate * (1 - burst * BURST_WINDOW) / (1 - BURST_WINDOW)
            segments = [
                (start, 3600 * BURST_WINDOW, rate * burst),
                (start + 3600 * BURST_WINDOW, 3600 * (1 - BURST_WINDOW), calm),
            ]
        else:
            segments = [(start, 3600.0, rate)]
        for seg_start, length, seg_rate in segments:
            n = rng.poisson(seg_rate * length)
            chunks.append(np.sort(seg_start + rng.random(n) * length))
    times = np.concatenate(chunks) if chunks else np.zeros(0)
    names = tuple(mix)
    ops = rng.choice(len(names), size=len(times), p=np.asarray([mix[n] for n in names]))
    return Arrivals(times, ops.astype(np.int64), names)


def feed(
    env: simpy.Environment, times: NDArray[np.float64], arrive: Callable[[int, simpy.events.Event], None]
) -> None:
    """Call ``arrive(i, event)`` at each arrival time. Callbacks, not processes (a day can hold
    10⁵–10⁶ requests), and each arrival schedules the next, which keeps the event heap small."""

    def step(i: int, event: simpy.events.Event) -> None:
        arrive(i, event)
        if i + 1 < len(times):
            env.timeout(float(times[i + 1]) - env.now).callbacks.append(partial(step, i + 1))

    if len(times):
        env.timeout(float(times[0])).callbacks.append(partial(step, 0))
