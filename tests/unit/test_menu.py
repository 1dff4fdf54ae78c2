from __future__ import annotations

import pytest

from cafe.domain.menu import InvalidOption, UnknownItem, load_menu, menu_document, parse_menu


@pytest.fixture(scope="module")
def menu():
    return load_menu()


def test_shipped_menu_is_a_real_cafe_menu(menu):
    categories = {item.category for item in menu.items}
    assert {"espresso", "tea", "non-coffee", "pastry"} <= categories
    assert menu.currency == "KRW"
    for item in menu.items:
        assert item.name.ko and item.name.en
        assert item.price > 0 and isinstance(item.price, int)


def test_left_out_options_take_defaults_at_no_surcharge(menu):
    options, price = menu.item("cafe-latte").price_with({})
    assert options == {
        "size": "regular",
        "temperature": "hot",
        "milk": "whole",
        "extra_shot": "0",
        "syrup": "none",
    }
    assert price == 5000


def test_chosen_options_add_their_surcharges(menu):
    options, price = menu.item("cafe-latte").price_with({"size": "large", "milk": "oat", "extra_shot": "2"})
    assert price == 5000 + 500 + 600 + 1000
    assert options["milk"] == "oat"


@pytest.mark.parametrize(
    ("item_id", "chosen"),
    [("americano", {"milk": "oat"}), ("americano", {"size": "huge"}), ("croissant", {"size": "large"})],
)
def test_options_the_item_does_not_offer_are_refused(menu, item_id, chosen):
    with pytest.raises(InvalidOption):
        menu.item(item_id).price_with(chosen)


def test_unknown_item(menu):
    with pytest.raises(UnknownItem):
        menu.item("flat-white-xl")


def test_menu_document_marks_sold_out_items(menu):
    document = menu_document(menu, {"croissant"})
    availability = {item["id"]: item["available"] for item in document["items"]}
    assert availability["croissant"] is False
    assert availability["americano"] is True


def test_a_menu_whose_default_costs_extra_is_rejected():
    raw = {
        "currency": "KRW",
        "items": [
            {
                "id": "x",
                "category": "tea",
                "name": {"ko": "x", "en": "x"},
                "price": 1,
                "options": [
                    {
                        "name": "size",
                        "label": {"ko": "s", "en": "s"},
                        "default": "big",
                        "choices": [{"value": "big", "name": {"ko": "b", "en": "b"}, "surcharge": 100}],
                    }
                ],
            }
        ],
    }
    with pytest.raises(ValueError, match="must cost nothing"):
        parse_menu(raw)
