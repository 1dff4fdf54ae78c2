"""The OpenAPI 3.1 document, built from the route table so it cannot list a route that is not
served (the API tests validate real responses against these schemas)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cafe import __version__
from cafe.api.http import MAX_BODY_BYTES
from cafe.api.routes import ROUTES, Route
from cafe.domain.orders import Status
from cafe.service import CUSTOMER_MAX_LENGTH, MAX_LINES, MAX_QUANTITY

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
    "OrderRequest": {
        "type": "object",
        "required": ["customer", "items"],
        "additionalProperties": False,
        "properties": {
            "customer": {"type": "string", "minLength": 1, "maxLength": CUSTOMER_MAX_LENGTH},
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_LINES,
                "items": {
                    "type": "object",
                    "required": ["item_id", "quantity"],
                    "additionalProperties": False,
                    "properties": {
                        "item_id": {"type": "string"},
                        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
                        "options": {"type": "object", "additionalProperties": {"type": "string"}},
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
        "properties": {"open": {"type": "boolean"}, "max_waiting": {"type": "integer", "minimum": 0}},
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
}
ERRORS = {
    "400": "Malformed JSON",
    "401": "Staff token missing",
    "403": "Staff token wrong",
    "404": "Not found",
    "409": "Conflict (status machine, concurrent change)",
    "413": f"Body over {MAX_BODY_BYTES} bytes",
    "422": "Invalid fields",
    "503": "Store closed or queue full",
}


def _operation(route: Route) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": route.handler, "summary": route.summary, "responses": {}}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in route.parameters
    ]
    if route.handler == "place_order":
        parameters.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 128},
            }
        )
    if route.handler == "list_orders":
        parameters.append({"name": "status", "in": "query", "required": False, "schema": {"type": "string"}})
        parameters.append({"name": "limit", "in": "query", "required": False, "schema": {"type": "integer"}})
    if parameters:
        operation["parameters"] = parameters
    if route.staff:
        operation["security"] = [{"staffToken": []}]
    if not route.json:
        operation["responses"]["200"] = {"description": "A page or asset", "content": {"text/html": {}}}
        return operation
    if route.handler == "openapi":
        operation["responses"]["200"] = {"description": "OpenAPI 3.1", "content": {"application/json": {}}}
        return operation
    request_schema, status, response_schema = CONTRACT[route.handler]
    if request_schema:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(request_schema)}},
        }
    operation["responses"][status] = {
        "description": "OK",
        "content": {"application/json": {"schema": _ref(response_schema)}},
    }
    for code, text in ERRORS.items():
        operation["responses"][code] = {
            "description": text,
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return operation


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.template, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Café Compute", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer"}},
        },
    }
