"""Café Compute latency comparison: one workload against the three runtimes, one report.

`python -m compare run` (or `make compare`) starts the three runtimes locally, drives the café
workload open-loop, and writes reports/<timestamp>/. See compare/run.py for the sequence.
"""

__version__ = "0.1.0"
