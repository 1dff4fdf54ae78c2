"""API Gateway REST proxy events: route templates, request → event, proxy response → HTTP.

The event has the shape Chalice reads (it dispatches on requestContext.resourcePath and the HTTP
method), so the resource template must be found the way API Gateway finds it: the most specific
template whose literal segments match, `{name}` taking one segment and `{name+}` the rest.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GREEDY_PROXY = "/{proxy+}"


@dataclass(frozen=True)
class Route:
    template: str
    methods: frozenset[str]  # empty = any method (API Gateway's ANY)
    segments: tuple[str, ...]

    @classmethod
    def parse(cls, template: str, methods: Iterable[str] = ()) -> Route:
        return cls(template, frozenset(m.upper() for m in methods), _split(template))


def _split(path: str) -> tuple[str, ...]:
    return tuple(s for s in path.split("/") if s)


def _match(route: Route, segments: Sequence[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """(specificity score, path parameters) or None; literal 2 > {param} 1 > {greedy+} 0."""
    params: dict[str, str] = {}
    score: list[int] = []
    for index, pattern in enumerate(route.segments):
        if pattern.startswith("{") and pattern.endswith("+}"):
            if index >= len(segments):
                return None
            params[pattern[1:-2]] = "/".join(segments[index:])
            score.append(0)
            return tuple(score), params
        if index >= len(segments):
            return None
        if pattern.startswith("{") and pattern.endswith("}"):
            params[pattern[1:-1]] = segments[index]
            score.append(1)
        elif pattern == segments[index]:
            score.append(2)
        else:
            return None
    if len(route.segments) != len(segments):
        return None
    return tuple(score), params


class RouteTable:
    """The API's resources; `find` returns the template and path parameters for a request path."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes = tuple(routes)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Iterable[str]]) -> RouteTable:
        return cls(Route.parse(template, methods) for template, methods in mapping.items())

    def find(self, path: str) -> tuple[Route, dict[str, str]] | None:
        segments = _split(path)
        best: tuple[tuple[int, ...], Route, dict[str, str]] | None = None
        for route in self.routes:
            matched = _match(route, segments)
            if matched is not None and (best is None or matched[0] > best[0]):
                best = (matched[0], route, matched[1])
        return None if best is None else (best[1], best[2])


def build_event(
    *,
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Sequence[tuple[str, str]],
    body: bytes,
    route: Route,
    path_parameters: Mapping[str, str],
    source_ip: str = "127.0.0.1",
    stage: str = "api",
    request_id: str | None = None,
) -> dict[str, Any]:
    """The REST API (v1) proxy event API Gateway sends for this request."""
    multi_query: dict[str, list[str]] = {}
    for name, value in query:
        multi_query.setdefault(name, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        multi_headers.setdefault(name, []).append(value)
    encoded = False
    text: str | None = None
    if body:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            text, encoded = base64.b64encode(body).decode("ascii"), True
    rid = request_id or str(uuid.uuid4())
    return {
        "resource": route.template,
        "path": path,
        "httpMethod": method.upper(),
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.template,
            "httpMethod": method.upper(),
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": rid,
            "extendedRequestId": rid,
            "requestTimeEpoch": int(time.time() * 1000),
            "protocol": "HTTP/1.1",
            "accountId": "000000000000",
            "apiId": "local",
            "resourceId": "local",
            "identity": {"sourceIp": source_ip, "userAgent": dict(headers).get("User-Agent")},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection"})


def proxy_response_to_http(result: Mapping[str, Any]) -> HttpResponse:
    """Map a proxy integration result to HTTP; a malformed one is a 502 as on API Gateway."""
    try:
        status = int(result["statusCode"])
    except (KeyError, TypeError, ValueError):
        return gateway_error(502, "Internal server error")
    pairs: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    for name, values in multi.items():
        pairs.extend((str(name), str(v)) for v in values)
    for name, value in (result.get("headers") or {}).items():
        if name not in multi:
            pairs.append((str(name), str(value)))
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return HttpResponse(status, tuple(p for p in pairs if p[0].lower() not in _HOP_BY_HOP), body)


def gateway_error(status: int, message: str) -> HttpResponse:
    """An answer from API Gateway itself (throttled, no route, integration failure)."""
    body = json.dumps({"message": message}).encode()
    return HttpResponse(status, (("Content-Type", "application/json"), ("x-amzn-ErrorType", message)), body)
