"""Benchmarks reported in docs/benchmarks.md; each module's docstring has its command."""
