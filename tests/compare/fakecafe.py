"""A tiny in-memory café speaking the project's API: the local server the tool is tested against.

Run as `python tests/compare/fakecafe.py PORT [DELAY_MS [WARMUP_S]]`; DELAY_MS slows every answer.
WARMUP_S stands for a runtime still warming up behind a front door: for that long after the first
order, answers are 30 ms slower and every third is API Gateway's own 500 {"message": ...}.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
import uuid
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

TOKEN = "test-token"
MENU = {
    "currency": "KRW",
    "items": [
        {
            "id": "americano",
            "price": 4500,
            "available": True,
            "options": [
                {"name": "size", "default": "regular", "choices": [{"value": "regular"}, {"value": "large"}]}
            ],
        },
        {"id": "croissant", "price": 3800, "available": True, "options": []},
    ],
}
NEXT = {"PLACED": {"PREPARING", "CANCELLED"}, "PREPARING": {"READY", "CANCELLED"}, "READY": {"COMPLETED"}}
orders: dict[str, dict[str, Any]] = {}
numbers = itertools.count(1)
store = {"open": True, "max_waiting": 20}
delay_s = 0.0
warmup_s = 0.0
warm_from: float | None = None
answers = itertools.count()


async def _pause() -> None:
    if delay_s:
        await asyncio.sleep(delay_s)


def _staff(request: Request) -> JSONResponse | None:
    if request.headers.get("authorization") != f"Bearer {TOKEN}":
        return JSONResponse({"error": {"code": "unauthorized", "message": "staff only"}}, 401)
    return None


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "runtime": "fake", "version": "0"})


async def live(request: Request) -> JSONResponse:
    """This fake pushes nothing: the pages (and the generator) keep polling, as on Lambda."""
    return JSONResponse({"transport": "none"})


async def menu(request: Request) -> JSONResponse:
    await _pause()
    return JSONResponse(MENU)


async def orders_root(request: Request) -> JSONResponse:
    await _pause()
    if request.method == "GET":
        denied = _staff(request)
        if denied:
            return denied
        status = request.query_params.get("status")
        return JSONResponse({"orders": [o for o in orders.values() if o["status"] == status]})
    body = await request.json()
    order = {
        "id": uuid.uuid4().hex,
        "number": next(numbers),
        "status": "PLACED",
        "customer": body["customer"],
        "items": body["items"],
    }
    orders[order["id"]] = order
    return JSONResponse(order, 201)


async def order(request: Request) -> JSONResponse:
    await _pause()
    found = orders.get(request.path_params["oid"])
    return JSONResponse(found) if found else JSONResponse({"error": {"code": "not_found"}}, 404)


async def transition(request: Request, to: str) -> JSONResponse:
    found = orders.get(request.path_params["oid"])
    if found is None:
        return JSONResponse({"error": {"code": "not_found"}}, 404)
    if to not in NEXT.get(found["status"], set()):
        return JSONResponse({"error": {"code": "conflict"}}, 409)
    found["status"] = to
    return JSONResponse(found)


async def cancel(request: Request) -> JSONResponse:
    await _pause()
    return await transition(request, "CANCELLED")


async def status(request: Request) -> JSONResponse:
    await _pause()
    denied = _staff(request)
    return denied or await transition(request, (await request.json())["status"])


async def store_settings(request: Request) -> JSONResponse:
    if request.method == "PUT":
        denied = _staff(request)
        if denied:
            return denied
        store.update(await request.json())
    return JSONResponse(store)


async def pickup(request: Request) -> JSONResponse:
    await _pause()
    board = {
        "preparing": [o["number"] for o in orders.values() if o["status"] == "PREPARING"],
        "ready": [o["number"] for o in orders.values() if o["status"] == "READY"],
    }
    return JSONResponse(board)


async def page(request: Request) -> Response:
    """The pages and their static files: a few bytes each (what the tool asks for, not what it says)."""
    await _pause()
    return Response(b"<!doctype html>", media_type="text/html")


app = Starlette(
    routes=[
        Route("/", page),
        Route("/barista", page),
        Route("/board", page),
        Route("/static/{name}", page),
        Route("/pickup", pickup),
        Route("/health", health),
        Route("/live", live),
        Route("/menu", menu),
        Route("/orders", orders_root, methods=["GET", "POST"]),
        Route("/orders/{oid}", order),
        Route("/orders/{oid}/cancel", cancel, methods=["POST"]),
        Route("/orders/{oid}/status", status, methods=["POST"]),
        Route("/store", store_settings, methods=["GET", "PUT"]),
    ]
)


async def front(scope: Any, receive: Any, send: Any) -> None:
    """The app behind a front door that answers for it while it warms up (WARMUP_S)."""
    global warm_from
    if scope["type"] == "http" and warmup_s:
        if warm_from is None and scope["path"] == "/orders" and scope["method"] == "POST":
            warm_from = time.monotonic()
        if warm_from is not None and time.monotonic() - warm_from < warmup_s:
            await asyncio.sleep(0.03)
            if next(answers) % 3 == 0:
                await JSONResponse({"message": "Internal server error"}, 500)(scope, receive, send)
                return
    await app(scope, receive, send)


if __name__ == "__main__":
    if len(sys.argv) > 2:
        delay_s = float(sys.argv[2]) / 1000
    if len(sys.argv) > 3:
        warmup_s = float(sys.argv[3])
    uvicorn.run(front, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
