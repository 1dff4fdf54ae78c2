"""The order every benchmark places: one oat-milk café latte, a typical line of the menu."""

from __future__ import annotations

from typing import Any

ORDER: dict[str, Any] = {
    "customer": "Bench",
    "items": [{"item_id": "cafe-latte", "quantity": 1, "options": {"milk": "oat"}}],
}
