"""Who answered an error: the café, the front door, something outside the app, or nobody."""

from __future__ import annotations

import json

from compare.load.causes import by_kind, cause_of, describe, not_the_app


def test_the_cafes_own_errors_are_application_errors_by_code() -> None:
    body = json.dumps({"error": {"code": "store_busy", "message": "x", "details": {}}}).encode()
    assert cause_of(503, body) == "application:store_busy"
    assert cause_of(429, json.dumps({"error": {"code": "queue_full"}}).encode()) == "application:queue_full"


def test_api_gateways_own_answers_are_the_front_door() -> None:
    assert cause_of(429, b'{"message": "Too Many Requests"}') == "front_door:429"
    assert cause_of(500, b'{"message": "Internal server error"}') == "front_door:500"
    assert cause_of(504, b'{"message": "Endpoint request timed out"}') == "front_door:504"


def test_a_5xx_without_the_cafes_body_came_from_outside_the_app() -> None:
    assert cause_of(502, b"<html><body>502 Bad Gateway</body></html>") == "outside_app:502"
    assert cause_of(500, b"Internal Server Error") == "outside_app:500"
    assert cause_of(503, b"") == "outside_app:503"


def test_an_unexpected_status_with_no_error_body_is_the_application() -> None:
    assert cause_of(200, b'{"orders": []}') == "application:200"
    assert cause_of(404, b"") == "application:404"


def test_summaries_split_what_the_cafe_did_not_answer() -> None:
    causes = {"application:store_busy": 2, "front_door:500": 5, "transport:timeout": 1}
    assert not_the_app(causes) == {"front_door:500": 5, "transport:timeout": 1}
    assert by_kind(causes) == {"application": 2, "front_door": 5, "transport": 1}
    text = describe(causes)
    assert text.startswith("5 answered by the front door (API Gateway) 500")
    assert "2 the café's own error store_busy" in text and describe({}) == "none"
