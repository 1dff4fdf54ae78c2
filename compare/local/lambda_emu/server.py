"""The API-Gateway-style HTTP front of the local Lambda, plus its control endpoints.

Every request becomes a REST proxy event dispatched to the pool. With the WebSocket API on,
`/ws` and `/{stage}/@connections/{id}` are API Gateway's WebSocket API and its management API
(websocket.py, connections_api.py). Control endpoints live under /__emulator/ (never a route of
the app): `stats` (cold starts, throttles, environments: the HTTP function's at the top level,
every function's under `functions`, plus `connections` and `stream`) and `coldstart` (start N
fresh environments one after another, each answering one event, and report init and
first-invocation durations separately).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from compare.local.lambda_emu.connections_api import ConnectionsApi
from compare.local.lambda_emu.events import (
    GREEDY_PROXY,
    HttpResponse,
    Route,
    RouteTable,
    build_event,
    gateway_error,
    proxy_response_to_http,
)
from compare.local.lambda_emu.runtime import (
    EnvironmentFailed,
    InvocationTimeout,
    Pool,
    Throttled,
    billed_ms,
)
from compare.local.lambda_emu.websocket import WebSocketApi

if TYPE_CHECKING:  # the poller imports the café package; the front needs it only when streaming
    from compare.local.lambda_emu.stream_poller import StreamPoller

CONTROL = "/__emulator"
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's payload limit


def _to_web(response: HttpResponse) -> web.Response:
    out = web.Response(status=response.status, body=response.body)
    for name, value in response.headers:
        out.headers.add(name, value)
    return out


class Front:
    """Turns HTTP requests into proxy events for the pool and proxy results back into HTTP."""

    def __init__(
        self,
        pool: Pool,
        routes: RouteTable | None,
        *,
        functions: Mapping[str, Pool] | None = None,
        websocket: WebSocketApi | None = None,
        stream: StreamPoller | None = None,
    ) -> None:
        self.pool = pool
        self.routes = routes or RouteTable([Route.parse(GREEDY_PROXY)])
        self.functions = dict(functions or {pool.config.handler: pool})
        self.websocket = websocket
        self.stream = stream
        self.started = time.time()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_PAYLOAD)
        app.router.add_get(f"{CONTROL}/stats", self.stats)
        app.router.add_post(f"{CONTROL}/coldstart", self.coldstart)
        if self.websocket is not None:
            # Before the catch-all: these paths are API Gateway's, not the app's.
            self.websocket.add_routes(app)
            ConnectionsApi(self.websocket).add_routes(app)
        # [\s\S]: a path may hold an encoded newline; aiohttp would answer it with its own text 404.
        app.router.add_route("*", r"/{tail:[\s\S]*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        found = self.routes.find(request.path)
        if found is None:
            return _to_web(gateway_error(403, "Missing Authentication Token"))
        route, params = found
        if route.methods and request.method.upper() not in route.methods and request.method != "OPTIONS":
            return _to_web(gateway_error(403, "Missing Authentication Token"))
        event = build_event(
            method=request.method,
            path=request.path,
            query=list(request.query.items()),
            headers=list(request.headers.items()),
            body=await request.read(),
            route=route,
            path_parameters=params,
            source_ip=request.remote or "127.0.0.1",
        )
        try:
            kind, body, _record = await self.pool.invoke(json.dumps(event).encode())
        except Throttled:
            # "If the Lambda API rejects the invocation request, API Gateway returns a 500 error
            # code ... the body ... is {"message": "Internal server error"}" (Lambda developer
            # guide, "Handling Lambda errors with an API Gateway API"). A throttle is such a
            # rejection (429 TooManyRequestsException from Lambda), so the client sees a 500.
            return _to_web(gateway_error(500, "Internal server error"))
        except InvocationTimeout:
            return _to_web(gateway_error(504, "Endpoint request timed out"))
        except EnvironmentFailed:
            return _to_web(gateway_error(502, "Internal server error"))
        if kind != "response":
            return _to_web(gateway_error(502, "Internal server error"))
        try:
            result = json.loads(body)
        except ValueError:
            return _to_web(gateway_error(502, "Internal server error"))
        if not isinstance(result, dict):
            return _to_web(gateway_error(502, "Internal server error"))
        return _to_web(proxy_response_to_http(result))

    async def stats(self, request: web.Request) -> web.Response:
        pool = self.pool
        figures: dict[str, Any] = {
            **pool.figures(),  # the HTTP function's, where the comparison reads them
            "envelope": {
                "cpu_vcpu": pool.config.limits().cpu_vcpu,
                "memory_mb": pool.config.memory_mb,
                "enforced": pool.envelopes is not None and pool.envelopes.enforced,
                "mechanism": pool.envelopes.mechanism if pool.envelopes is not None else "none",
            },
            "functions": {handler: each.figures() for handler, each in self.functions.items()},
        }
        if self.websocket is not None:
            figures["connections"] = self.websocket.figures()
        if self.stream is not None:
            figures["stream"] = self.stream.stats()
        return web.json_response(figures)

    async def coldstart(self, request: web.Request) -> web.Response:
        """Fresh environments one at a time: spawn → ready (init) → one event (first invocation)."""
        count = int(request.query.get("n", "10"))
        path = request.query.get("path", "/health")
        found = self.routes.find(path)
        if found is None:
            return web.json_response({"error": f"no route for {path}"}, status=400)
        route, params = found
        samples: list[dict[str, Any]] = []
        for _ in range(count):
            env = await self.pool.new_environment()
            try:
                await env.ready
                event = build_event(
                    method="GET",
                    path=path,
                    query=[],
                    headers=[],
                    body=b"",
                    route=route,
                    path_parameters=params,
                )
                started = time.monotonic()
                kind, body, invocation = await env.invoke(json.dumps(event).encode())
                round_trip = (time.monotonic() - started) * 1000
                status = json.loads(body).get("statusCode") if kind == "response" else None
                duration = (invocation.finished_at - invocation.handed_at) * 1000
                samples.append(
                    {
                        "init_ms": env.init_ms,
                        "first_invoke_ms": duration,
                        "first_invoke_round_trip_ms": round_trip,
                        "total_ms": (invocation.finished_at - env.spawned_at) * 1000,
                        "billed_ms": billed_ms(duration, env.init_ms),
                        "max_memory_used_mb": env.max_memory_used_mb(),
                        "status": status,
                    }
                )
            finally:
                await env.stop()
            await asyncio.sleep(0.05)
        summary = {
            key: statistics.median(s[key] for s in samples)
            for key in ("init_ms", "first_invoke_ms", "total_ms")
            if samples
        }
        return web.json_response({"path": path, "samples": samples, "median": summary})
