"""How the report writes numbers: milliseconds, small samples, errors."""

from __future__ import annotations

from compare.results import RunResults, Spread, Window


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def spread(s: Spread | None) -> str:
    if s is None or not s.n:
        return "–"
    return f"{ms(s.median)} (IQR {ms(s.q1)}–{ms(s.q3)}, range {ms(s.min)}–{ms(s.max)}, n={s.n})"


def slo(results: RunResults) -> str:
    """The run's p99 SLO with where it came from: "500 ms, from profile small-cafe" or "100 ms, from
    the command line"."""
    setting = results.slo_setting
    where = "the command line" if setting.source == "command line" else setting.source
    return f"{setting.p99_ms:g} ms, from {where}"


def errors(window: Window | None) -> str:
    if window is None:
        return "none"
    return ", ".join(f"{k} ×{v}" for k, v in window.errors_by_status.items()) or "none"
