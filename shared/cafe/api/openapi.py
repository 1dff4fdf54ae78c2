"""The OpenAPI 3.1 document, built from the route table so it cannot list a route that is not
served (the API tests validate real responses against these schemas)."""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any

from cafe import __version__
from cafe.api.http import MAX_BODY_BYTES
from cafe.api.parsing import DEFAULT_LIMIT, MAX_LIMIT, STATUS_LIST
from cafe.api.routes import ROUTES, Route
from cafe.api.static import CONTENT_TYPES, asset_names
from cafe.domain.menu import Menu, MenuItem, load_menu
from cafe.domain.orders import Status
from cafe.domain.settings import MAX_WAITING_LIMIT
from cafe.service import CUSTOMER_MAX_LENGTH, IDEMPOTENCY_KEY_MAX_LENGTH, MAX_LINES, MAX_QUANTITY

STATUSES = [status.value for status in Status]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


NAME = {
    "type": "object",
    "required": ["ko", "en"],
    "properties": {"ko": {"type": "string"}, "en": {"type": "string"}},
}
SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {"type": "object"},
                },
            }
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "runtime", "version"],
        "properties": {
            "status": {"const": "ok"},
            "runtime": {"enum": ["lambda", "fargate", "ec2", "local"]},
            "version": {"type": "string"},
        },
    },
    "Menu": {
        "type": "object",
        "required": ["currency", "items"],
        "properties": {
            "currency": {"type": "string"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "price", "available", "options"],
                    "properties": {
                        "id": {"type": "string"},
                        "category": {"type": "string"},
                        "name": NAME,
                        "price": {"type": "integer", "minimum": 0},
                        "available": {"type": "boolean"},
                        "options": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["name", "default", "choices"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "label": NAME,
                                    "default": {"type": "string"},
                                    "choices": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["value", "surcharge"],
                                            "properties": {
                                                "value": {"type": "string"},
                                                "name": NAME,
                                                "surcharge": {"type": "integer", "minimum": 0},
                                            },
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "Order": {
        "type": "object",
        "required": [
            "id",
            "number",
            "status",
            "customer",
            "items",
            "total",
            "currency",
            "created_at",
            "history",
        ],
        "properties": {
            "id": {"type": "string"},
            "number": {"type": "integer", "minimum": 1},
            "status": {"enum": STATUSES},
            "customer": {"type": "string"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["item_id", "name", "quantity", "options", "unit_price", "line_total"],
                    "properties": {
                        "item_id": {"type": "string"},
                        "name": NAME,
                        "quantity": {"type": "integer"},
                        "options": {"type": "object", "additionalProperties": {"type": "string"}},
                        "unit_price": {"type": "integer"},
                        "line_total": {"type": "integer"},
                    },
                },
            },
            "total": {"type": "integer", "minimum": 0},
            "currency": {"type": "string"},
            "business_day": {"type": "string", "format": "date"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "history": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["status", "at"],
                    "properties": {
                        "status": {"enum": STATUSES},
                        "at": {"type": "string", "format": "date-time"},
                    },
                },
            },
            "version": {"type": "integer", "minimum": 1},
        },
    },
    "OrderList": {
        "type": "object",
        "required": ["orders"],
        "properties": {"orders": {"type": "array", "items": _ref("Order")}},
    },
    "PickupBoard": {
        "type": "object",
        "required": ["preparing", "ready"],
        "additionalProperties": False,
        "properties": {
            "preparing": {"type": "array", "items": {"type": "integer", "minimum": 1}},
            "ready": {"type": "array", "items": {"type": "integer", "minimum": 1}},
        },
    },
    "StatusChange": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"enum": STATUSES[1:]}},
    },
    "StoreSettings": {
        "type": "object",
        "required": ["open", "max_waiting"],
        "additionalProperties": False,
        "properties": {
            "open": {"type": "boolean"},
            "max_waiting": {"type": "integer", "minimum": 0, "maximum": MAX_WAITING_LIMIT},
        },
    },
    "Store": {
        "type": "object",
        "required": ["open", "max_waiting", "waiting"],
        "properties": {
            "open": {"type": "boolean"},
            "max_waiting": {"type": "integer"},
            "waiting": {"type": "integer", "minimum": 0},
        },
    },
    "Availability": {
        "type": "object",
        "required": ["available"],
        "additionalProperties": False,
        "properties": {"available": {"type": "boolean"}},
    },
    "Live": {
        "type": "object",
        "required": ["transport"],
        "properties": {
            "transport": {
                "enum": ["websocket", "sse", "none"],
                "description": (
                    "websocket or sse: subscribe at url (see /asyncapi.json); none: poll the GET endpoints"
                ),
            },
            "url": {
                "type": "string",
                "description": "Where to subscribe: root-relative (sse), a wss:// or ws:// URL (websocket)",
            },
        },
    },
    "ItemAvailability": {
        "type": "object",
        "required": ["id", "available"],
        "properties": {"id": {"type": "string"}, "available": {"type": "boolean"}},
    },
}

# handler → (request schema, success status, response schema)
CONTRACT: dict[str, tuple[str | None, str, str]] = {
    "health": (None, "200", "Health"),
    "menu": (None, "200", "Menu"),
    "update_menu_item": ("Availability", "200", "ItemAvailability"),
    "place_order": ("OrderRequest", "201", "Order"),
    "list_orders": (None, "200", "OrderList"),
    "get_order": (None, "200", "Order"),
    "cancel_order": (None, "200", "Order"),
    "change_status": ("StatusChange", "200", "Order"),
    "pickup_board": (None, "200", "PickupBoard"),
    "get_store": (None, "200", "Store"),
    "put_store": ("StoreSettings", "200", "Store"),
    "live": (None, "200", "Live"),
}
# Which refusals each kind of operation can give (cafe.api.errors has the one table).
BODY_ERRORS = {
    "400": "Body is not a JSON object",
    "413": f"Body over {MAX_BODY_BYTES} bytes",
    "422": "A field is missing, unknown, or of the wrong type or range",
}
# Every operation that reads or writes the order book (all but /health).
STORE_ERRORS = {
    "503": "The order book did not answer (throttled, failing, unreachable or locked): retry after"
    " Retry-After seconds; a retry with the same Idempotency-Key or If-Match answers as the first"
    " attempt would have",
}
STAFF_ERRORS = {
    "401": "Staff token missing",
    "403": "Staff token wrong, or a staff call over plain HTTP where HTTPS is required",
    "429": "Too many wrong staff tokens from this client: locked out for Retry-After seconds",
}
OPERATION_ERRORS: dict[str, dict[str, str]] = {
    "update_menu_item": {"422": "No such menu item"},
    "place_order": {
        "409": "Store closed, an item sold out, or the Idempotency-Key used for another order",
        "422": "Unknown item or option",
        "429": "The queue is full (max_waiting orders wait): retry after Retry-After seconds",
        "503": "The store kept conflicting (DynamoDB)",
    },
    "list_orders": {"422": "status or limit out of range"},
    "get_order": {"404": "No such order"},
    "cancel_order": {
        "404": "No such order",
        "409": "The barista has started it",
        "412": "If-Match names a version the order has left (someone else changed it)",
    },
    "change_status": {
        "404": "No such order",
        "409": "Not a next status of this order, or changed meanwhile",
        "412": "If-Match names a version the order has left (someone else changed it)",
    },
    "static_file": {"404": "No such asset"},
}
RETRY_AFTER = {
    "Retry-After": {"required": True, "description": "Seconds to wait", "schema": {"type": "string"}}
}
# Conditional GETs: the ETag of the last answer in If-None-Match gets an empty 304.
CONDITIONAL = {
    "menu",
    "get_order",
    "pickup_board",
    "static_file",
    "customer_page",
    "barista_page",
    "board_page",
}
# Status changes made only from the version the client names (If-Match), safe to retry.
VERSIONED = {"cancel_order", "change_status"}
# Stateful testing (and readers) follow these from a placed order to what can be done with it.
ORDER_LINKS = {
    "GetOrder": {"operationId": "get_order", "parameters": {"order_id": "$response.body#/id"}},
    "CancelOrder": {"operationId": "cancel_order", "parameters": {"order_id": "$response.body#/id"}},
    "ChangeStatus": {"operationId": "change_status", "parameters": {"order_id": "$response.body#/id"}},
}
PAGE_TYPES = {
    "customer_page": "text/html",
    "barista_page": "text/html",
    "board_page": "text/html",
}


@lru_cache(maxsize=2)
def _printable_ranges(skip_space: bool) -> str:
    """A regex character class of exactly what ``str.isprintable`` accepts (the domain's rule)."""
    parts: list[str] = []
    start = previous = -2
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if not char.isprintable() or (skip_space and char == " "):
            continue
        if code != previous + 1:
            if start >= 0:
                parts.append(_class_range(start, previous))
            start = code
        previous = code
    parts.append(_class_range(start, previous))
    return "[" + "".join(parts) + "]"


def _class_range(first: int, last: int) -> str:
    def literal(code: int) -> str:
        return "\\" + chr(code) if chr(code) in "\\]^-[" else chr(code)

    return literal(first) if first == last else f"{literal(first)}-{literal(last)}"


def _menu_line(item: MenuItem) -> dict[str, Any]:
    """One order line for one item: its id, and only the options and values it offers."""
    return {
        "type": "object",
        "required": ["item_id", "quantity"],
        "additionalProperties": False,
        "properties": {
            "item_id": {"const": item.id},
            "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
            "options": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    option.name: {"enum": [choice.value for choice in option.choices]}
                    for option in item.options
                },
            },
        },
    }


def _parameters(route: Route, menu: Menu) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name in route.parameters:
        schema: dict[str, Any] = {"type": "string", "minLength": 1}
        if name == "item_id":
            schema = {"enum": sorted(menu.ids())}
        if name == "name":
            schema = {"enum": asset_names()}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
    if route.handler == "place_order":
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "description": (
                    "Retrying with the same key and body returns the same order. Without a key, a"
                    " retry after a lost answer (a timeout, a 503) may place a second order"
                ),
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH,
                    "pattern": f"^{_printable_ranges(skip_space=False)}*$",
                },
            }
        )
    if route.handler == "list_orders":
        parameters.append(
            {
                "name": "status",
                "in": "query",
                "required": False,
                "description": "Comma-separated statuses; PLACED,PREPARING when absent or empty",
                "schema": {"type": "string", "pattern": STATUS_LIST.pattern},
            }
        )
        parameters.append(
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            }
        )
    if route.handler in CONDITIONAL:
        parameters.append(
            {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}}
        )
    if route.handler in VERSIONED:
        parameters.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "description": (
                    "One ETag of the order (or *): change only that version. A retry of a change made"
                    " from it answers 200 with the order, never a refusal"
                ),
                "schema": {"type": "string"},
            }
        )
    return parameters


def _operation(route: Route, menu: Menu) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": route.handler, "summary": route.summary, "responses": {}}
    parameters = _parameters(route, menu)
    if parameters:
        operation["parameters"] = parameters
    responses: dict[str, Any] = operation["responses"]
    if route.staff:
        operation["security"] = [{"staffToken": []}]
    if not route.json:
        types = [PAGE_TYPES[route.handler]] if route.handler in PAGE_TYPES else CONTENT_TYPES.values()
        content: dict[str, Any] = {media.split(";")[0]: {} for media in types}
        responses["200"] = {"description": "A page or asset", "content": content}
    elif route.handler == "openapi":
        responses["200"] = {"description": "OpenAPI 3.1", "content": {"application/json": {}}}
    elif route.handler == "asyncapi":
        responses["200"] = {"description": "AsyncAPI 3.0", "content": {"application/json": {}}}
    else:
        request_schema, status, response_schema = CONTRACT[route.handler]
        if request_schema:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(request_schema)}},
            }
        responses[status] = {
            "description": "OK",
            "content": {"application/json": {"schema": _ref(response_schema)}},
        }
    if route.handler == "place_order":
        responses["201"]["links"] = ORDER_LINKS
    errors: dict[str, str] = {}
    if "requestBody" in operation:
        errors.update(BODY_ERRORS)
    if route.staff:
        errors.update(STAFF_ERRORS)
    if route.handler in CONTRACT and route.handler not in ("health", "live"):
        errors.update(STORE_ERRORS)
    for code, text in OPERATION_ERRORS.get(route.handler, {}).items():
        errors[code] = f"{errors[code]}; {text}" if code in errors else text
    if route.handler in CONDITIONAL:
        responses["304"] = {"description": "Not modified since the ETag in If-None-Match"}
    for code, text in sorted(errors.items()):
        response: dict[str, Any] = {
            "description": text,
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        if code in ("429", "503"):
            response["headers"] = RETRY_AFTER
        responses[code] = response
    return operation


def _order_request(menu: Menu) -> dict[str, Any]:
    printable = _printable_ranges(skip_space=False)
    return {
        "type": "object",
        "required": ["customer", "items"],
        "additionalProperties": False,
        "properties": {
            # Printable characters, at least one of them not a space (the domain strips spaces).
            "customer": {
                "type": "string",
                "minLength": 1,
                "maxLength": CUSTOMER_MAX_LENGTH,
                "pattern": f"^{printable}*{_printable_ranges(skip_space=True)}{printable}*$",
            },
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_LINES,
                "items": {"oneOf": [_menu_line(item) for item in menu.items]},
            },
        },
    }


@lru_cache(maxsize=4)
def document(menu: Menu | None = None) -> dict[str, Any]:
    """The document for this menu (item ids and options are part of the contract)."""
    menu = menu or load_menu()
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.template, {})[route.method.lower()] = _operation(route, menu)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Café Compute", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, "OrderRequest": _order_request(menu)},
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer"}},
        },
    }
