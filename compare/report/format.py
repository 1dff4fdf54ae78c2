"""How the report writes numbers: milliseconds, small samples, errors."""

from __future__ import annotations

from compare.results import Spread, Window


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def spread(s: Spread | None) -> str:
    if s is None or not s.n:
        return "–"
    return f"{ms(s.median)} (IQR {ms(s.q1)}–{ms(s.q3)}, range {ms(s.min)}–{ms(s.max)}, n={s.n})"


def errors(window: Window | None) -> str:
    if window is None:
        return "none"
    return ", ".join(f"{k} ×{v}" for k, v in window.errors_by_status.items()) or "none"
