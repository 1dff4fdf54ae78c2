"""A café's day: one business day of a cost profile simulated (SimPy) on each runtime as deployed.

``simulate_day(raw_profile, inputs)`` returns the JSON-ready day; ``defaults(load_overheads())``
gives the sourced inputs and ``from_results(path, inputs)`` swaps in a comparison run's
measurements.
"""

from __future__ import annotations

from compare.day.inputs import DayInputs, defaults, from_results
from compare.day.simulate import daily_usd, simulate_day

__all__ = ["DayInputs", "daily_usd", "defaults", "from_results", "simulate_day"]
