"""AWS latency model: what AWS adds around the measured code, and the projection built from it.

``load_overheads()`` reads the sourced figures (overheads-*.json); ``project(service, hops,
calls)`` combines a measured service-time distribution with the runtime's hops (``hops_for``)
and its DynamoDB round trips (``dynamodb_calls``) by Monte Carlo.
"""

from __future__ import annotations

from compare.aws_model.distributions import Constant, Empirical, LogNormal, Uniform, from_spec
from compare.aws_model.overheads import Figure, Overheads
from compare.aws_model.overheads import load as load_overheads
from compare.aws_model.projection import (
    Component,
    dynamodb_calls,
    from_figure,
    hops_for,
    project,
    project_mix,
)

__all__ = [
    "Component",
    "Constant",
    "Empirical",
    "Figure",
    "LogNormal",
    "Overheads",
    "Uniform",
    "dynamodb_calls",
    "from_figure",
    "from_spec",
    "hops_for",
    "load_overheads",
    "project",
    "project_mix",
]
