"""One small client interface over the three runtimes run in-process (the test seam).

- lambda: Chalice's test client, which sends API Gateway proxy events through the handler;
- fargate: Starlette's TestClient (httpx) over the ASGI app;
- ec2: httpx over the WSGI app (``httpx.WSGITransport``).
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import httpx

ROOT = Path(__file__).resolve().parents[2]
# Every in-process client connects "from" loopback, like the other two transports do
# (a trusted hop, so tests can name other clients with X-Forwarded-For).
LOOPBACK_PEER = ("127.0.0.1", 50000)


@dataclass
class Result:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client(Protocol):
    runtime: str
    module: ModuleType

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Result: ...


def load_chalice_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cafe_chalice_app", ROOT / "chalice_app" / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ChaliceClient:
    runtime = "lambda"

    def __init__(self) -> None:
        from chalice.test import Client as ChaliceTestClient

        self.module = load_chalice_module()
        self._client = ChaliceTestClient(self.module.app)

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Result:
        response = self._client.http.request(method, path, headers=headers or {}, body=body or b"")
        return Result(
            response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.body
        )


class HttpxClient:
    def __init__(self, runtime: str, module: ModuleType, client: httpx.Client) -> None:
        self.runtime = runtime
        self.module = module
        self._client = client

    def request(
        self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Result:
        # On the wire a header value is bytes; latin-1 lets tests send any of them.
        raw = {name: value.encode("latin-1") for name, value in (headers or {}).items()}
        response = self._client.request(method, path, content=body, headers=raw)
        return Result(
            response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content
        )


def fargate_client() -> HttpxClient:
    from starlette.testclient import TestClient

    import fargate.app

    return HttpxClient(
        "fargate",
        fargate.app,
        TestClient(fargate.app.app, base_url="http://fargate.test", client=LOOPBACK_PEER),
    )


def ec2_client() -> HttpxClient:
    import ec2.app

    transport = httpx.WSGITransport(app=ec2.app.application)
    return HttpxClient("ec2", ec2.app, httpx.Client(transport=transport, base_url="http://ec2.test"))
