"""Store settings: whether the café takes orders and how many may wait at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_WAITING = 20
MAX_WAITING_LIMIT = 100_000  # validation bound only; a real café sets tens


@dataclass(frozen=True)
class StoreSettings:
    open: bool = True
    max_waiting: int = DEFAULT_MAX_WAITING

    def to_dict(self) -> dict[str, Any]:
        return {"open": self.open, "max_waiting": self.max_waiting}
