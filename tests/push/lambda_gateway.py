"""API Gateway's side of the Lambda push, for the tests: WebSocket events in its v1 shape, and
its ``@connections`` management API behind a real boto3 client.

The management API is answered inside botocore (a ``before-send`` hook), so each post goes
through boto3's own request building and error parsing: a closed connection is a real 410
``GoneException`` to the code under test. (moto's ``apigatewaymanagementapi`` accepts a post
to any id and concatenates what it gets, so it can neither say "gone" nor separate frames.)
"""

from __future__ import annotations

import itertools
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

API_ID = "abc123"
STAGE = "live"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"
CALLBACK_URL = f"https://{DOMAIN}/{STAGE}"
_requests = itertools.count(1)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


class Gateway:
    """Open connections and the text frames posted to each; ``failing`` ids answer 500."""

    def __init__(self) -> None:
        self.open: set[str] = set()
        self.failing: set[str] = set()
        self.frames: dict[str, list[str]] = defaultdict(list)
        self.posts = 0

    def client(self) -> Any:
        client = boto3.session.Session().client(
            "apigatewaymanagementapi",
            endpoint_url=CALLBACK_URL,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.meta.events.register("before-send.apigatewaymanagementapi.PostToConnection", self._post)
        return client

    def _post(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.posts += 1
        connection_id = unquote(request.url.rsplit("/@connections/", 1)[1])
        if connection_id in self.failing:
            return self._answer(request, 500, "InternalServerErrorException")
        if connection_id not in self.open:
            return self._answer(request, 410, "GoneException")
        body = request.body
        self.frames[connection_id].append(body.decode() if isinstance(body, bytes) else str(body))
        return AWSResponse(request.url, 200, {}, _Raw(b""))

    @staticmethod
    def _answer(request: AWSPreparedRequest, status: int, error: str) -> AWSResponse:
        headers = {"x-amzn-ErrorType": error, "Content-Type": "application/json"}
        return AWSResponse(request.url, status, headers, _Raw(json.dumps({"message": error}).encode()))

    def messages(self, connection_id: str) -> list[dict[str, Any]]:
        """What the client has been sent, each frame parsed; and forget it (the client read it)."""
        frames = self.frames.pop(connection_id, [])
        return [json.loads(frame) for frame in frames]


def ws_event(
    route: str, connection_id: str, body: str | None = None, *, ip: str = "203.0.113.10"
) -> dict[str, Any]:
    """An API Gateway WebSocket event (v1) as Lambda receives it."""
    event_type = {"$connect": "CONNECT", "$default": "MESSAGE", "$disconnect": "DISCONNECT"}[route]
    now_ms = int(time.time() * 1000)
    context: dict[str, Any] = {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": f"ext-{next(_requests)}",
        "requestTimeEpoch": now_ms,
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": now_ms,
        "requestId": f"req-{next(_requests)}",
        "domainName": DOMAIN,
        "connectionId": connection_id,
        "apiId": API_ID,
        "identity": {"sourceIp": ip, "userAgent": "pytest"},
    }
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if route == "$connect":
        event["headers"] = {"Host": DOMAIN, "Sec-WebSocket-Version": "13"}
        event["multiValueHeaders"] = {name: [value] for name, value in event["headers"].items()}
    if route == "$default":
        context["messageId"] = f"msg-{next(_requests)}"
        event["body"] = body
    return event


class LambdaContext:
    function_name = "cafe-dev-ws_message"
    aws_request_id = "lambda-request"
    memory_limit_in_mb = 128

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000
