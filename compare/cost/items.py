"""Itemised cost lines (quantity × unit price = cost), in the spirit of Infracost's breakdown.

A runtime's cost is a flat list of lines plus notes; keeping the arithmetic in one place means a
test can recompute any line from its own quantity and unit price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from compare.cost.prices import Price, TieredPrice

MODELED = "modeled"


@dataclass(frozen=True)
class LineItem:
    name: str
    quantity: float
    unit: str
    unit_usd: float
    price_basis: str
    quantity_basis: str = MODELED

    @property
    def usd(self) -> float:
        return self.quantity * self.unit_usd

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "quantity": round(self.quantity, 6),
            "unit": self.unit,
            "unit_usd": self.unit_usd,
            "usd": round(self.usd, 6),
            "label": MODELED,
            "quantity_basis": self.quantity_basis,
            "price_basis": self.price_basis,
        }


def line(name: str, quantity: float, price: Price, quantity_basis: str = MODELED) -> LineItem:
    return LineItem(name, quantity, price.unit, price.usd, price.label(), quantity_basis)


def tier_name(tier_index: int, begin: float, end: float | None, unit: str) -> str:
    if end is None:
        return f"above {_short(begin)} {unit}"
    if begin == 0:
        return f"first {_short(end)} {unit}"
    return f"{_short(begin)}–{_short(end)} {unit}"


def _short(n: float) -> str:
    for size, suffix in ((1e9, " B"), (1e6, " M"), (1e3, " k")):
        if n >= size:
            return f"{n / size:g}{suffix}"
    return f"{n:g}"


def tiered_lines(
    name: str,
    parts: Sequence[tuple[str, float]],
    price: TieredPrice,
    quantity_basis: str = MODELED,
) -> list[LineItem]:
    """Split the monthly usage of several parts across the price tiers.

    Tiers apply to the aggregate monthly usage, so the parts fill them in order; a part that spans
    a tier boundary becomes one line per tier.
    """
    out: list[LineItem] = []
    used = 0.0
    for part_name, qty in parts:
        remaining = max(0.0, qty)
        for i, tier in enumerate(price.tiers):
            if remaining <= 0:
                break
            room = float("inf") if tier.end is None else tier.end - max(used, tier.begin)
            if used >= (tier.end if tier.end is not None else float("inf")) or room <= 0:
                continue
            take = min(remaining, room)
            label = f"{name}{part_name}"
            if len(price.tiers) > 1:
                label += f" ({tier_name(i, tier.begin, tier.end, price.unit)})"
            out.append(LineItem(label, take, price.unit, tier.usd, price.label(), quantity_basis))
            used += take
            remaining -= take
    return out


def sig(x: float, digits: int = 6) -> float:
    """Round to significant digits: per-order figures are fractions of a cent."""
    return float(f"{x:.{digits}g}")


def total(items: Sequence[LineItem]) -> float:
    return sum(i.usd for i in items)


@dataclass
class RuntimeCost:
    """One runtime (or pricing option) priced for one profile: its lines, notes and sizing."""

    runtime: str
    option: str
    items: list[LineItem]
    notes: list[str]
    warnings: list[str]
    sizing: dict[str, Any]

    @property
    def monthly_usd(self) -> float:
        return total(self.items)

    def to_dict(self, monthly_orders: float, shared_usd: float) -> dict[str, Any]:
        monthly = self.monthly_usd
        per_k = monthly / monthly_orders * 1000 if monthly_orders else None
        per_k_all = (monthly + shared_usd) / monthly_orders * 1000 if monthly_orders else None
        return {
            "option": self.option,
            "monthly_usd": round(monthly, 4),
            "monthly_usd_with_shared": round(monthly + shared_usd, 4),
            "usd_per_1000_orders": None if per_k is None else sig(per_k),
            "usd_per_1000_orders_with_shared": None if per_k_all is None else sig(per_k_all),
            "label": MODELED,
            "items": [i.to_dict() for i in self.items],
            "sizing": self.sizing,
            "notes": self.notes,
            "warnings": self.warnings,
        }
