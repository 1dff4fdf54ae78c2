"""The API contract, run against all three runtimes in-process (chalice / ASGI / WSGI)."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from cafe.api.openapi import document

ORDER = {
    "customer": "김민수",
    "items": [{"item_id": "cafe-latte", "quantity": 2, "options": {"milk": "oat"}}],
}


def check(response, schema: str) -> None:
    spec = document()
    validator = Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": spec["components"]}
    )
    validator.validate(response.json())


def place(cafe, order=ORDER, **kwargs):
    response = cafe.call("POST", "/orders", order, **kwargs)
    assert response.status == 201, response.body
    return response.json()


def test_health_names_the_runtime(cafe):
    response = cafe.call("GET", "/health")
    assert response.status == 200
    check(response, "Health")
    assert response.json()["runtime"] == cafe.runtime
    assert response.headers["x-cafe-runtime"] == cafe.runtime


def test_menu(cafe):
    response = cafe.call("GET", "/menu")
    check(response, "Menu")
    menu = response.json()
    assert menu["currency"] == "KRW"
    latte = next(item for item in menu["items"] if item["id"] == "cafe-latte")
    assert latte["name"] == {"ko": "카페 라떼", "en": "Caffè Latte"}
    assert {o["name"] for o in latte["options"]} >= {"size", "milk", "extra_shot", "temperature"}


def test_place_and_track(cafe):
    response = cafe.call("POST", "/orders", ORDER)
    assert response.status == 201
    check(response, "Order")
    order = response.json()
    assert order["total"] == 2 * (5000 + 600)
    assert order["status"] == "PLACED" and order["number"] == 1
    assert response.headers["location"] == f"/orders/{order['id']}"
    fetched = cafe.call("GET", f"/orders/{order['id']}")
    check(fetched, "Order")
    assert fetched.json()["id"] == order["id"]


def test_etag_polling(cafe):
    order = place(cafe)
    first = cafe.call("GET", f"/orders/{order['id']}")
    etag = first.headers["etag"]
    assert cafe.call("GET", f"/orders/{order['id']}", headers={"If-None-Match": etag}).status == 304
    cafe.call("POST", f"/orders/{order['id']}/status", {"status": "PREPARING"}, staff=True)
    changed = cafe.call("GET", f"/orders/{order['id']}", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.json()["status"] == "PREPARING"


def test_customer_cancel_only_while_placed(cafe):
    order = place(cafe)
    response = cafe.call("POST", f"/orders/{order['id']}/cancel")
    assert response.status == 200 and response.json()["status"] == "CANCELLED"
    again = cafe.call("POST", f"/orders/{order['id']}/cancel")
    assert again.status == 409
    assert again.json()["error"]["code"] == "transition_refused"


def test_barista_flow(cafe):
    order = place(cafe)
    for status in ("PREPARING", "READY", "COMPLETED"):
        response = cafe.call("POST", f"/orders/{order['id']}/status", {"status": status}, staff=True)
        assert response.status == 200, response.body
        check(response, "Order")
    history = [h["status"] for h in response.json()["history"]]
    assert history == ["PLACED", "PREPARING", "READY", "COMPLETED"]
    refused = cafe.call("POST", f"/orders/{order['id']}/status", {"status": "PREPARING"}, staff=True)
    assert refused.status == 409


@pytest.mark.parametrize(
    ("path", "body", "target"),
    [("/status", {"status": "PREPARING"}, "PREPARING"), ("/cancel", None, "CANCELLED")],
    ids=["status", "cancel"],
)
def test_a_change_sent_again_with_if_match_answers_as_the_first_time(cafe, path, body, target):
    order = place(cafe)
    staff = path == "/status"
    url = f"/orders/{order['id']}{path}"
    first = cafe.call("POST", url, body, staff=staff, headers={"If-Match": f'"{order["id"]}.1"'})
    again = cafe.call("POST", url, body, staff=staff, headers={"If-Match": f'"{order["id"]}.1"'})
    assert first.status == again.status == 200, again.body
    assert again.json() == first.json() and again.json()["status"] == target
    assert again.headers["etag"] == f'"{order["id"]}.2"'
    # Without If-Match a second request is a new request: the status machine refuses it.
    assert cafe.call("POST", url, body, staff=staff).status == 409


@pytest.mark.parametrize(
    "if_match", ["{id}.2", '"{id}.2"', '"other.1"', '"{id}.x"', '"{id}.0"', '"{id}.1", "{id}.2"', "W/x"]
)
def test_an_if_match_naming_no_current_version_is_412_and_changes_nothing(cafe, if_match):
    order = place(cafe)
    response = start_with_if_match(cafe, order, if_match.replace("{id}", order["id"]))
    assert response.status == 412, response.body
    assert response.json()["error"]["code"] == "stale_version"
    assert cafe.call("GET", f"/orders/{order['id']}").json()["version"] == 1


def test_if_match_star_or_a_list_holding_the_version_applies(cafe):
    first, second = place(cafe), place(cafe)
    for order, header in ((first, "*"), (second, f'"x.1", "{second["id"]}.1"')):
        response = start_with_if_match(cafe, order, header)
        assert response.status == 200, response.body


def start_with_if_match(cafe, order, header):
    path = f"/orders/{order['id']}/status"
    return cafe.call("POST", path, {"status": "PREPARING"}, staff=True, headers={"If-Match": header})


def test_queue_is_oldest_first(cafe):
    ids = [place(cafe)["id"] for _ in range(3)]
    cafe.call("POST", f"/orders/{ids[0]}/status", {"status": "PREPARING"}, staff=True)
    response = cafe.call("GET", "/orders?status=PLACED", staff=True)
    check(response, "OrderList")
    assert [o["id"] for o in response.json()["orders"]] == ids[1:]
    both = cafe.call("GET", "/orders?status=PLACED,PREPARING", staff=True).json()["orders"]
    assert [o["id"] for o in both] == ids


def test_pickup_board_shows_numbers_only_oldest_first(cafe):
    orders = [place(cafe) for _ in range(4)]
    moves = [["PREPARING"], ["PREPARING"], ["PREPARING", "READY"], []]  # the last one stays PLACED
    for order, steps in zip(orders, moves, strict=True):
        for step in steps:
            cafe.call("POST", f"/orders/{order['id']}/status", {"status": step}, staff=True)
    response = cafe.call("GET", "/pickup")  # public: no staff token
    assert response.status == 200
    check(response, "PickupBoard")
    numbers = [o["number"] for o in orders]
    assert response.json() == {"preparing": numbers[:2], "ready": [numbers[2]]}
    assert ORDER["customer"] not in response.body.decode()  # a public screen shows no names


def test_pickup_board_polls_with_etag(cafe):
    order = place(cafe)
    first = cafe.call("GET", "/pickup")
    etag = first.headers["etag"]
    assert first.json() == {"preparing": [], "ready": []}
    unchanged = cafe.call("GET", "/pickup", headers={"If-None-Match": etag})
    assert unchanged.status == 304 and unchanged.headers["etag"] == etag and not unchanged.body
    cafe.call("POST", f"/orders/{order['id']}/status", {"status": "PREPARING"}, staff=True)
    changed = cafe.call("GET", "/pickup", headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.json()["preparing"] == [order["number"]]
    assert changed.headers["etag"] != etag


@pytest.mark.parametrize(
    ("method", "path", "document"),
    [
        ("GET", "/orders?status=PLACED", None),
        ("POST", "/orders/x/status", {"status": "READY"}),
        ("PUT", "/store", {"open": False, "max_waiting": 3}),
        ("PATCH", "/menu/croissant", {"available": False}),
    ],
)
def test_staff_routes_need_the_token(cafe, method, path, document):
    missing = cafe.call(method, path, document)
    assert missing.status == 401
    assert missing.json()["error"]["code"] == "authentication_required"
    wrong = cafe.call(method, path, document, staff="not-the-token")
    assert wrong.status == 403
    assert cafe.call("GET", "/store").json() == {"open": True, "max_waiting": 20, "waiting": 0}
    assert cafe.call("GET", "/menu").json()["items"][-4]["available"] is True


def test_store_closed_and_full(cafe):
    response = cafe.call("PUT", "/store", {"open": False, "max_waiting": 1}, staff=True)
    assert response.status == 200
    check(response, "Store")
    closed = cafe.call("POST", "/orders", ORDER)
    # Not 5xx: a closed café is its state, not an outage (no alarm, no load balancer retry).
    assert closed.status == 409 and closed.json()["error"]["code"] == "store_closed"
    assert "retry-after" not in closed.headers  # only staff reopening helps
    cafe.call("PUT", "/store", {"open": True, "max_waiting": 1}, staff=True)
    place(cafe)
    full = cafe.call("POST", "/orders", ORDER)
    assert full.status == 429 and full.json()["error"]["code"] == "queue_full"
    assert full.headers["retry-after"] == "60"
    assert cafe.stored_orders() == 1


def test_sold_out(cafe):
    response = cafe.call("PATCH", "/menu/croissant", {"available": False}, staff=True)
    assert response.status == 200
    check(response, "ItemAvailability")
    menu = cafe.call("GET", "/menu").json()
    assert next(i for i in menu["items"] if i["id"] == "croissant")["available"] is False
    refused = cafe.call(
        "POST", "/orders", {"customer": "Kim", "items": [{"item_id": "croissant", "quantity": 1}]}
    )
    # 409 like a closed store: the request is valid, the menu's current state refuses it.
    assert refused.status == 409 and refused.json()["error"]["code"] == "item_sold_out"
    assert cafe.call("PATCH", "/menu/nope", {"available": False}, staff=True).status == 422


def test_idempotency_key(cafe):
    first = place(cafe, headers={"Idempotency-Key": "basket-1"})
    again = place(cafe, headers={"Idempotency-Key": "basket-1"})
    assert again["id"] == first["id"]
    other = dict(ORDER, customer="Lee")
    reused = cafe.call("POST", "/orders", other, headers={"Idempotency-Key": "basket-1"})
    assert reused.status == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert cafe.stored_orders() == 1


LINE = {"item_id": "americano", "quantity": 1}
BAD_ORDERS = [
    pytest.param(b"{not json", 400, id="malformed-json"),
    pytest.param(b"[1, 2]", 400, id="not-an-object"),
    pytest.param(b"", 400, id="empty-body"),
    pytest.param(b"\xff\xfe", 400, id="not-utf8"),
    pytest.param({"items": [LINE]}, 422, id="no-customer"),
    pytest.param({"customer": 42, "items": [LINE]}, 422, id="customer-not-string"),
    pytest.param({"customer": "", "items": [LINE]}, 422, id="customer-empty"),
    pytest.param({"customer": "x" * 41, "items": [LINE]}, 422, id="customer-too-long"),
    pytest.param({"customer": "Kim", "items": []}, 422, id="no-lines"),
    pytest.param({"customer": "Kim", "items": [LINE] * 21}, 422, id="too-many-lines"),
    pytest.param({"customer": "Kim", "items": "americano"}, 422, id="items-not-list"),
    pytest.param({"customer": "Kim", "items": ["americano"]}, 422, id="line-not-object"),
    pytest.param(
        {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 0}]}, 422, id="quantity-0"
    ),
    pytest.param(
        {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 21}]}, 422, id="quantity-21"
    ),
    pytest.param(
        {"customer": "Kim", "items": [{"item_id": "americano", "quantity": "2"}]}, 422, id="quantity-str"
    ),
    pytest.param(
        {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 1.5}]}, 422, id="quantity-float"
    ),
    pytest.param(
        {"customer": "Kim", "items": [{"item_id": "americano", "quantity": True}]}, 422, id="quantity-bool"
    ),
    pytest.param(
        {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 10**30}]}, 422, id="quantity-huge"
    ),
    pytest.param(
        {"customer": "Kim", "items": [{"item_id": "unicorn-latte", "quantity": 1}]}, 422, id="unknown-item"
    ),
    pytest.param({"customer": "Kim", "items": [{"quantity": 1}]}, 422, id="no-item-id"),
    pytest.param(
        {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 1, "options": {"milk": "oat"}}]},
        422,
        id="unknown-option",
    ),
    pytest.param(
        {
            "customer": "Kim",
            "items": [{"item_id": "americano", "quantity": 1, "options": {"size": "bucket"}}],
        },
        422,
        id="unknown-option-value",
    ),
    pytest.param(
        {"customer": "Kim", "items": [{"item_id": "americano", "quantity": 1, "options": {"size": 1}}]},
        422,
        id="option-not-string",
    ),
    pytest.param({"customer": "Kim", "items": [LINE], "total": 1}, 422, id="client-total"),
    pytest.param({"customer": "Kim", "items": [dict(LINE, price=1)]}, 422, id="client-price"),
    pytest.param({"customer": "Kim", "items": [LINE], "pad": "x" * 70_000}, 413, id="oversized"),
]


@pytest.mark.parametrize(("payload", "status"), BAD_ORDERS)
def test_bad_orders_are_refused_and_store_nothing(cafe, payload, status):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    response = cafe.call("POST", "/orders", body=body)
    assert response.status == status, response.body
    check(response, "Error")
    assert cafe.stored_orders() == 0


@pytest.mark.parametrize(
    ("method", "path", "document", "status"),
    [
        ("POST", "/orders/nope/status", {"status": "READY"}, 404),
        ("POST", "/orders/nope/cancel", None, 404),
        ("GET", "/orders/nope", None, 404),
        ("POST", "/orders/{id}/status", {"status": "DONE"}, 422),
        ("POST", "/orders/{id}/status", {"status": 1}, 422),
        ("POST", "/orders/{id}/status", {}, 422),
        ("PUT", "/store", {"open": "yes", "max_waiting": 3}, 422),
        ("PUT", "/store", {"open": True, "max_waiting": -1}, 422),
        ("PUT", "/store", {"open": True, "max_waiting": 3.5}, 422),
        ("PATCH", "/menu/americano", {"available": "no"}, 422),
        ("GET", "/orders?status=LOST", None, 422),
        ("GET", "/orders?limit=0", None, 422),
    ],
)
def test_bad_staff_requests(cafe, method, path, document, status):
    order = place(cafe)
    response = cafe.call(method, path.format(id=order["id"]), document, staff=True)
    assert response.status == status, response.body
    check(response, "Error")
    assert cafe.call("GET", f"/orders/{order['id']}").json()["version"] == 1
    assert cafe.call("GET", "/store").json()["max_waiting"] == 20


def test_unknown_route(cafe):
    response = cafe.call("GET", "/no/such/route")
    # API Gateway itself answers unknown paths with 403 before the Lambda is invoked.
    assert response.status in ((403,) if cafe.runtime == "lambda" else (404,))
    if cafe.runtime != "lambda":
        check(response, "Error")


def test_openapi_document_is_valid_and_served(cafe):
    response = cafe.call("GET", "/openapi.json")
    assert response.status == 200
    spec = response.json()
    validate_spec(spec)
    assert set(spec["paths"]) >= {"/health", "/menu", "/orders", "/orders/{order_id}", "/store"}


def test_pages_are_served(cafe):
    for path in ("/", "/barista", "/board"):
        response = cafe.call("GET", path)
        assert response.status == 200, path
        assert response.headers["content-type"].startswith("text/html")
    assert cafe.call("GET", "/static/..%2Fdata%2Fmenu.json").status in (403, 404)
