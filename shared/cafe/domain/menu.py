"""The menu: items, their options and how a line of an order is priced.

Prices are integers in the minor unit of the menu's currency (KRW has none), so no float
ever touches money.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from cafe.errors import InvalidInput


class UnknownItem(InvalidInput):
    code = "unknown_item"


class InvalidOption(InvalidInput):
    code = "invalid_option"


class ItemSoldOut(InvalidInput):
    code = "item_sold_out"


@dataclass(frozen=True)
class LocalizedName:
    ko: str
    en: str

    def to_dict(self) -> dict[str, str]:
        return {"ko": self.ko, "en": self.en}


@dataclass(frozen=True)
class OptionChoice:
    value: str
    name: LocalizedName
    surcharge: int


@dataclass(frozen=True)
class ItemOption:
    name: str
    label: LocalizedName
    default: str
    choices: tuple[OptionChoice, ...]

    def choice(self, value: str) -> OptionChoice | None:
        return next((c for c in self.choices if c.value == value), None)


@dataclass(frozen=True)
class MenuItem:
    id: str
    category: str
    name: LocalizedName
    price: int
    options: tuple[ItemOption, ...]

    def price_with(self, chosen: Mapping[str, str]) -> tuple[dict[str, str], int]:
        """Resolve the customer's choices against this item.

        Returns every option with its value (defaults filled in at no surcharge) and the unit
        price. Raises ``InvalidOption`` for a name or value the item does not offer.
        """
        offered = {option.name: option for option in self.options}
        unknown = sorted(set(chosen) - set(offered))
        if unknown:
            raise InvalidOption(
                f"{self.id} has no option {unknown[0]!r}",
                {"item_id": self.id, "option": unknown[0], "offered": sorted(offered)},
            )
        resolved: dict[str, str] = {}
        unit_price = self.price
        for option in self.options:
            value = chosen.get(option.name, option.default)
            choice = option.choice(value)
            if choice is None:
                raise InvalidOption(
                    f"{value!r} is not a choice of {self.id}'s {option.name}",
                    {
                        "item_id": self.id,
                        "option": option.name,
                        "choices": [c.value for c in option.choices],
                    },
                )
            resolved[option.name] = value
            if option.name in chosen:
                unit_price += choice.surcharge
        return resolved, unit_price


@dataclass(frozen=True)
class Menu:
    currency: str
    items: tuple[MenuItem, ...]

    def item(self, item_id: str) -> MenuItem:
        for candidate in self.items:
            if candidate.id == item_id:
                return candidate
        raise UnknownItem(f"no menu item {item_id!r}", {"item_id": item_id})

    def ids(self) -> frozenset[str]:
        return frozenset(item.id for item in self.items)


def _name(raw: Mapping[str, Any]) -> LocalizedName:
    return LocalizedName(ko=str(raw["ko"]), en=str(raw["en"]))


def _option(raw: Mapping[str, Any]) -> ItemOption:
    choices = tuple(
        OptionChoice(value=str(c["value"]), name=_name(c["name"]), surcharge=int(c.get("surcharge", 0)))
        for c in raw["choices"]
    )
    option = ItemOption(
        name=str(raw["name"]), label=_name(raw["label"]), default=str(raw["default"]), choices=choices
    )
    default_choice = option.choice(option.default)
    if default_choice is None:
        raise ValueError(f"option {option.name}: default {option.default!r} is not a choice")
    if default_choice.surcharge != 0:
        raise ValueError(f"option {option.name}: the default must cost nothing")
    return option


def parse_menu(raw: Mapping[str, Any], currency: str | None = None) -> Menu:
    items: list[MenuItem] = []
    for entry in raw["items"]:
        items.append(
            MenuItem(
                id=str(entry["id"]),
                category=str(entry["category"]),
                name=_name(entry["name"]),
                price=int(entry["price"]),
                options=tuple(_option(o) for o in entry.get("options", ())),
            )
        )
    ids = [item.id for item in items]
    if len(ids) != len(set(ids)):
        raise ValueError("menu item ids must be unique")
    return Menu(currency=currency or str(raw["currency"]), items=tuple(items))


def load_menu(currency: str | None = None, path: str | None = None) -> Menu:
    """The menu shipped in the package (or another file given by path)."""
    if path:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    else:
        raw = json.loads(resources.files("cafe").joinpath("data/menu.json").read_text(encoding="utf-8"))
    return parse_menu(raw, currency)


def menu_document(menu: Menu, unavailable: Iterable[str]) -> dict[str, Any]:
    """The menu as the API shows it, with availability applied."""
    sold_out = frozenset(unavailable)
    return {
        "currency": menu.currency,
        "items": [
            {
                "id": item.id,
                "category": item.category,
                "name": item.name.to_dict(),
                "price": item.price,
                "available": item.id not in sold_out,
                "options": [
                    {
                        "name": option.name,
                        "label": option.label.to_dict(),
                        "default": option.default,
                        "choices": [
                            {"value": c.value, "name": c.name.to_dict(), "surcharge": c.surcharge}
                            for c in option.choices
                        ],
                    }
                    for option in item.options
                ],
            }
            for item in menu.items
        ],
    }
