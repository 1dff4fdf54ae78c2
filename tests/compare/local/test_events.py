"""API Gateway proxy events: resource matching and the event/response shapes Chalice expects."""

from __future__ import annotations

import base64
import json

from compare.local.lambda_emu.events import (
    Route,
    RouteTable,
    build_event,
    gateway_error,
    proxy_response_to_http,
)

ROUTES = RouteTable.from_mapping(
    {
        "/": ["GET"],
        "/orders": ["GET", "POST"],
        "/orders/{order_id}": ["GET"],
        "/orders/{order_id}/status": ["POST"],
        "/orders/special": ["GET"],
        "/files/{path+}": ["GET"],
    }
)


def test_literal_beats_parameter_beats_greedy() -> None:
    assert ROUTES.find("/orders/special")[0].template == "/orders/special"  # type: ignore[index]
    route, params = ROUTES.find("/orders/abc123")  # type: ignore[misc]
    assert (route.template, params) == ("/orders/{order_id}", {"order_id": "abc123"})
    route, params = ROUTES.find("/orders/abc/status")  # type: ignore[misc]
    assert (route.template, params) == ("/orders/{order_id}/status", {"order_id": "abc"})
    route, params = ROUTES.find("/files/a/b/c.txt")  # type: ignore[misc]
    assert (route.template, params) == ("/files/{path+}", {"path": "a/b/c.txt"})
    assert ROUTES.find("/")[0].template == "/"  # type: ignore[index]
    assert ROUTES.find("/nope") is None
    assert ROUTES.find("/orders/a/b/c") is None


def test_event_has_the_rest_proxy_shape() -> None:
    route, params = ROUTES.find("/orders/o1")  # type: ignore[misc]
    event = build_event(
        method="get",
        path="/orders/o1",
        query=[("a", "1"), ("a", "2"), ("b", "x")],
        headers=[("Accept", "application/json"), ("X-Multi", "1"), ("X-Multi", "2")],
        body=b"",
        route=route,
        path_parameters=params,
        request_id="r-1",
    )
    assert event["httpMethod"] == "GET"
    assert event["resource"] == event["requestContext"]["resourcePath"] == "/orders/{order_id}"
    assert event["pathParameters"] == {"order_id": "o1"}
    assert event["queryStringParameters"] == {"a": "2", "b": "x"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x"]}
    assert event["headers"]["X-Multi"] == "2" and event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert (context["httpMethod"], context["requestId"], context["stage"]) == ("GET", "r-1", "api")
    json.dumps(event)


def test_binary_body_is_base64_and_empty_maps_are_null() -> None:
    event = build_event(
        method="POST",
        path="/orders",
        query=[],
        headers=[],
        body=b"\xff\x00",
        route=Route.parse("/orders", ["POST"]),
        path_parameters={},
    )
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\x00"
    assert event["pathParameters"] is None and event["queryStringParameters"] is None


def test_proxy_response_mapping() -> None:
    response = proxy_response_to_http(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "Content-Length": "99"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": '{"ok": true}',
            "isBase64Encoded": False,
        }
    )
    assert response.status == 201 and response.body == b'{"ok": true}'
    assert ("Set-Cookie", "a=1") in response.headers and ("Set-Cookie", "b=2") in response.headers
    assert all(name.lower() != "content-length" for name, _ in response.headers)
    binary = proxy_response_to_http(
        {"statusCode": 200, "body": base64.b64encode(b"\x01").decode(), "isBase64Encoded": True}
    )
    assert binary.body == b"\x01"
    assert proxy_response_to_http({"nope": 1}).status == 502
    assert gateway_error(429, "Too Many Requests").status == 429
