"""Price snapshots: the data files next to this module and the one reader for them.

Every figure the model uses comes through `PriceBook`, so each line item can say which snapshot,
source and basis its unit price has, and a missing Seoul figure becomes a visible fallback instead
of a silent guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SNAPSHOT_DIR = Path(__file__).resolve().parent
BASE_REGION = "us-east-1"


class PriceError(LookupError):
    """A figure the model needs is not in the snapshot (nor in the us-east-1 fallback)."""


@dataclass(frozen=True)
class Tier:
    begin: float
    end: float | None
    usd: float


@dataclass(frozen=True, kw_only=True)
class Sourced:
    """Where a price came from: shared by flat and tiered prices."""

    figure: str
    unit: str
    source: str
    basis: str
    region: str
    fallback: bool = False

    def label(self) -> str:
        """Short provenance text for a line item."""
        where = f"{self.region} price used for another region (fallback)" if self.fallback else self.region
        return f"{self.source}; {self.basis}; {where}"


@dataclass(frozen=True, kw_only=True)
class Price(Sourced):
    """One unit price with where it came from."""

    usd: float


@dataclass(frozen=True, kw_only=True)
class TieredPrice(Sourced):
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class Discount:
    key: str
    fraction: float
    basis: str
    source: str


def latest_snapshot(directory: Path = SNAPSHOT_DIR) -> Path:
    """The newest snapshot by its date in the file name (refresh writes new files, never edits)."""
    files = sorted(directory.glob("snapshot-*.json"))
    if not files:
        raise PriceError(f"no snapshot-*.json in {directory}")
    return files[-1]


@dataclass
class PriceBook:
    """Read access to one snapshot for one region, recording every fallback it had to make."""

    data: dict[str, Any]
    region: str
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, region: str, path: Path | None = None) -> PriceBook:
        path = path or latest_snapshot()
        data = json.loads(path.read_text(encoding="utf-8"))
        if region not in data.get("regions", []):
            raise PriceError(f"region {region!r} is not in snapshot {path.name} ({data.get('regions')})")
        return cls(data=data, region=region, path=path)

    @property
    def snapshot_name(self) -> str:
        return self.path.name if self.path else "in-memory snapshot"

    @property
    def snapshot_date(self) -> str:
        return str(self.data.get("snapshot_date", "unknown"))

    def _entry(self, figure: str, value_key: str) -> tuple[dict[str, Any], dict[str, Any], str, bool]:
        try:
            spec = self.data["figures"][figure]
        except KeyError as exc:
            raise PriceError(f"figure {figure!r} is not in snapshot {self.snapshot_name}") from exc
        regions = spec["regions"]
        entry = regions.get(self.region)
        if entry is not None and entry.get(value_key) is not None:
            return spec, entry, self.region, False
        base = regions.get(BASE_REGION)
        if base is None or base.get(value_key) is None:
            raise PriceError(f"figure {figure!r} has no price for {self.region} or {BASE_REGION}")
        why = entry.get("basis", "no entry") if entry else "no entry"
        msg = f"{figure}: no {self.region} figure ({why}); using the {BASE_REGION} price instead"
        if msg not in self.warnings:
            self.warnings.append(msg)
        return spec, base, BASE_REGION, True

    def _sourced(self, figure: str, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The entry of ``figure`` and the provenance fields every price carries."""
        spec, entry, region, fallback = self._entry(figure, kind)
        fields = {
            "figure": figure,
            "unit": spec["unit"],
            "source": self._source_text(entry),
            "basis": entry.get("basis", ""),
            "region": region,
            "fallback": fallback,
        }
        return entry, fields

    def price(self, figure: str) -> Price:
        entry, fields = self._sourced(figure, "usd")
        return Price(usd=float(entry["usd"]), **fields)

    def tiered(self, figure: str) -> TieredPrice:
        entry, fields = self._sourced(figure, "tiers")
        tiers = tuple(
            Tier(float(t["begin"]), None if t["end"] is None else float(t["end"]), float(t["usd"]))
            for t in entry["tiers"]
        )
        return TieredPrice(tiers=tiers, **fields)

    def discount(self, key: str) -> Discount:
        try:
            d = self.data["discounts"][key]
        except KeyError as exc:
            raise PriceError(f"discount {key!r} is not in snapshot {self.snapshot_name}") from exc
        return Discount(key=key, fraction=float(d["fraction"]), basis=d["basis"], source=d["source"])

    def free_tier(self, key: str) -> float:
        return float(self.data["free_tier"][key]["quantity"])

    def instance_type(self, name: str) -> dict[str, Any]:
        try:
            return dict(self.data["instance_types"][name])
        except KeyError as exc:
            known = ", ".join(sorted(self.data["instance_types"]))
            raise PriceError(f"instance type {name!r} is not in the snapshot (known: {known})") from exc

    def _source_text(self, entry: dict[str, Any]) -> str:
        src = entry.get("source", "")
        as_of = entry.get("as_of")
        return f"{src} ({as_of})" if as_of else src
