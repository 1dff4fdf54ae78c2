"""``CafeApi``: one request in, one response out — the whole HTTP behaviour of the café.

The three runtimes (Chalice on Lambda, ASGI on Fargate, WSGI on EC2) only translate their
framework's request into ``Request`` and ``Response`` back; routing, parsing, auth and the
error table all live here, so the runtimes cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from typing import TypeVar

from cafe import __version__
from cafe.api import parsing
from cafe.api.auth import HttpsRequired, require_staff
from cafe.api.errors import MethodNotAllowed, error_response
from cafe.api.guard import StaffGuard
from cafe.api.http import (
    Request,
    Response,
    json_response,
    json_text_response,
    new_request_id,
    security_headers,
)
from cafe.api.origin import Origin
from cafe.api.routes import Route, RouteNotFound, resolve
from cafe.api.static import asset
from cafe.config import websocket_origin
from cafe.domain.orders import Order, StaleVersion
from cafe.errors import CafeError, NotPermitted
from cafe.observability import Telemetry
from cafe.service import CafeService
from cafe.stores.base import StoreUnavailable

MENU_CACHE_SIZE = 64
# Where the server-sent-events stream is served (by the ASGI adapter, cafe.live.asgi).
LIVE_EVENTS_PATH = "/events"
T = TypeVar("T")
PAGES = {"customer_page": "index.html", "barista_page": "barista.html", "board_page": "board.html"}


def order_etag(order: Order) -> str:
    return f'"{order.id}.{order.version}"'


# A caller's X-Request-Id is echoed and logged only if it looks like an id.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def with_safe_request_id(request: Request) -> Request:
    """The caller's id if it looks like one, else a fresh one."""
    if SAFE_REQUEST_ID.fullmatch(request.request_id):
        return request
    return dataclasses.replace(request, request_id=new_request_id())


def not_modified_or(request: Request, response: Response) -> Response:
    """An empty 304 when the client already holds this version (If-None-Match), else `response`."""
    etag = response.headers["ETag"]
    if request.header("if-none-match") != etag:
        return response
    kept: dict[str, str] = {
        name: response.headers[name] for name in ("ETag", "Cache-Control") if name in response.headers
    }
    return Response(304, b"", kept)


class CafeApi:
    def __init__(
        self,
        service: CafeService,
        *,
        runtime: str,
        staff_token: str | None,
        telemetry: Telemetry,
        origin: Origin | None = None,
        guard: StaffGuard | None = None,
        staff_require_https: bool = False,
        websocket_url: str | None = None,
    ) -> None:
        self.service = service
        self.runtime = runtime
        self.staff_token = staff_token
        self.telemetry = telemetry
        self.origin = origin or Origin.from_env({})
        self.guard = guard or StaffGuard()
        self.staff_require_https = staff_require_https
        self.websocket_url = websocket_url
        self.security_headers = security_headers(websocket_origin(websocket_url))
        self._menus: dict[frozenset[str], Response] = {}

    # -- entry points ------------------------------------------------------------------
    @property
    def inline_safe(self) -> bool:
        """May an event loop call ``handle`` directly? Only on a store of fast local calls."""
        return self.service.store.fast_local_calls

    def handle(self, request: Request) -> Response:
        """Route by method and path (the server runtimes)."""
        request = with_safe_request_id(request)
        route, found = resolve(request.method, request.path)
        if route is None:
            assert isinstance(found, list)
            error: CafeError = (
                MethodNotAllowed(f"{request.method} is not allowed on {request.path}", {"allowed": found})
                if found
                else RouteNotFound(f"no route {request.method} {request.path}")
            )
            headers = {"Allow": ", ".join(found)} if found else {}
            return self._finish(request, self._reject(error, headers))
        assert isinstance(found, dict)
        return self._serve(route, found, request)

    def dispatch(self, route: Route, params: dict[str, str], request: Request) -> Response:
        """Serve an already-routed request (Chalice routes it itself)."""
        return self._serve(route, params, with_safe_request_id(request))

    def _serve(self, route: Route, params: dict[str, str], request: Request) -> Response:
        """``dispatch`` for a request whose id is already known to be safe."""
        self.telemetry.start_request(request.request_id, request.method, request.path)
        try:
            if route.staff:
                self._admit_staff(request)
            response: Response = getattr(self, route.handler)(request, **params)
        except StoreUnavailable as error:
            # The client is told to retry (503, Retry-After); the operator needs the cause.
            self.telemetry.log("warning", "store fault", cause=repr(error.cause))
            response = self._reject(error)
        except CafeError as error:
            response = self._reject(error)
        except Exception:  # a fault of ours or of the store, never of the client's input
            self.telemetry.log("exception", "unhandled error")
            response = json_response(500, {"error": {"code": "internal_error", "message": "internal error"}})
        return self._finish(request, response)

    def _admit_staff(self, request: Request) -> None:
        """HTTPS where required, then the brute-force lockout, then the token itself."""
        if self.staff_require_https and self.origin.scheme(request) != "https":
            raise HttpsRequired("staff actions must use HTTPS here", {"scheme": self.origin.scheme(request)})
        client = self.origin.client_address(request)
        try:
            self.guard.check(client)
        except CafeError:
            self.telemetry.staff_refused(client)
            raise
        try:
            require_staff(request, self.staff_token)
        except NotPermitted:  # a wrong token is a guess; a missing one (401) is not
            if self.guard.failed(client):
                self.telemetry.staff_locked_out(client, self.guard.lockout_seconds)
            raise
        self.guard.succeeded(client)

    def _reject(self, error: CafeError, headers: dict[str, str] | None = None) -> Response:
        response = error_response(error)
        response.headers.update(headers or {})
        self.telemetry.request_rejected(response.status, error.code)
        return response

    def _finish(self, request: Request, response: Response) -> Response:
        response.headers["X-Request-Id"] = request.request_id
        response.headers["X-Cafe-Runtime"] = self.runtime
        response.headers.update(self.security_headers)
        return response

    # -- handlers ----------------------------------------------------------------------
    def health(self, request: Request) -> Response:
        return json_response(200, {"status": "ok", "runtime": self.runtime, "version": __version__})

    def menu(self, request: Request) -> Response:
        # The menu changes only with availability: encode it once per set of sold-out items
        # (encoding the document is most of the cost of this, the most frequent, request).
        unavailable = self.service.unavailable_items()
        cached = self._menus.get(unavailable)
        if cached is None:
            if len(self._menus) >= MENU_CACHE_SIZE:
                self._menus.clear()
            cached = json_response(200, self.service.menu_document(unavailable))
            cached.headers["ETag"] = '"menu-' + hashlib.sha256(cached.body).hexdigest()[:16] + '"'
            self._menus[unavailable] = cached
        return not_modified_or(request, Response(cached.status, cached.body, dict(cached.headers)))

    def update_menu_item(self, request: Request, item_id: str) -> Response:
        return json_response(200, self.service.set_item_available(item_id, parsing.availability(request)))

    def place_order(self, request: Request) -> Response:
        order_request = parsing.order_request(request)
        order, stored = self.service.place_order_reporting(order_request, request.header("idempotency-key"))
        self.telemetry.annotate(order_id=order.id)
        if stored:  # a replayed key answers with the same order: one sale, counted once
            self.telemetry.order_placed(order.total)
        return json_text_response(
            201, order.as_json, {"Location": f"/orders/{order.id}", "ETag": order_etag(order)}
        )

    def list_orders(self, request: Request) -> Response:
        orders = self.service.orders_in(parsing.statuses(request), parsing.limit(request))
        return json_response(200, {"orders": [order.to_dict() for order in orders]})

    def get_order(self, request: Request, order_id: str) -> Response:
        order = self.service.get_order(order_id)
        self.telemetry.annotate(order_id=order.id)
        return not_modified_or(request, self._order(order))

    def pickup_board(self, request: Request) -> Response:
        # Screens poll this every few seconds; between changes they get an empty 304.
        response = json_response(200, self.service.pickup_board())
        response.headers["ETag"] = '"pickup-' + hashlib.sha256(response.body).hexdigest()[:16] + '"'
        return not_modified_or(request, response)

    def cancel_order(self, request: Request, order_id: str) -> Response:
        self.telemetry.annotate(order_id=order_id)
        expected = self._expected_version(request, order_id)
        return self._order(self.service.cancel_by_customer(order_id, expected))

    def change_status(self, request: Request, order_id: str) -> Response:
        self.telemetry.annotate(order_id=order_id)
        target = parsing.status_change(request)
        expected = self._expected_version(request, order_id)
        return self._order(self.service.advance(order_id, target, expected))

    def _expected_version(self, request: Request, order_id: str) -> int | None:
        """The version If-Match names; one naming none of this order's is stale (412), but only
        for an order that exists: no such order is a 404 whatever the header says."""
        try:
            return parsing.expected_version(request, order_id)
        except StaleVersion:
            self.service.get_order(order_id)  # OrderNotFound first
            raise

    @staticmethod
    def _order(order: Order) -> Response:
        return json_text_response(200, order.as_json, {"ETag": order_etag(order)})

    def get_store(self, request: Request) -> Response:
        return json_response(200, self.service.settings())

    def put_store(self, request: Request) -> Response:
        open_, max_waiting = parsing.store_settings(request)
        return json_response(200, self.service.update_settings(open=open_, max_waiting=max_waiting))

    def openapi(self, request: Request) -> Response:
        from cafe.api.openapi import document

        return json_response(200, document(self.service.menu), {"Cache-Control": "no-cache"})

    def live(self, request: Request) -> Response:
        """Push where the runtime holds streams and the store keeps a feed; else over the
        WebSocket API the configuration names (Lambda, ``CAFE_WS_URL``); else poll."""
        if request.streams and self.service.store.has_feed:
            return json_response(200, {"transport": "sse", "url": LIVE_EVENTS_PATH})
        if self.websocket_url:
            return json_response(200, {"transport": "websocket", "url": self.websocket_url})
        return json_response(200, {"transport": "none"})

    def asyncapi(self, request: Request) -> Response:
        from cafe.api.asyncapi import document

        return json_response(200, document(), {"Cache-Control": "no-cache"})

    def open_live(self, request: Request) -> Response | tuple[str, str]:
        """Check a subscription (``GET /events``) like any other call, before the stream starts.

        Returns the channel and order id, or the error response to send instead: an unknown
        channel 422, an unknown order 404, the staff queue refused by the same rules, lockout
        and counting as every staff call (401/403/429).
        """
        request = with_safe_request_id(request)
        self.telemetry.start_request(request.request_id, request.method, request.path)
        if request.method != "GET":
            error = MethodNotAllowed(
                f"{request.method} is not allowed on {request.path}", {"allowed": ["GET"]}
            )
            return self._finish(request, self._reject(error, {"Allow": "GET"}))

        def check() -> tuple[str, str]:
            channel, order_id = parsing.live_channel(request)
            self._check_subscription(request, channel, order_id)
            return channel, order_id

        return self._refusing(request, check)

    def live_frame(self, request: Request) -> Response | parsing.LiveFrame:
        """Check one WebSocket client frame (``request.body``) as ``open_live`` checks a
        subscription: the frame, or the finished error response to answer with instead.

        A queue subscription's ``token`` is checked as the bearer token of a staff call from the
        same client (``request``'s peer), through the same lockout.
        """
        request = with_safe_request_id(request)
        self.telemetry.start_request(request.request_id, request.method, request.path)

        def check() -> parsing.LiveFrame:
            frame = parsing.live_frame(request.body)
            if frame.action == "subscribe":
                subscriber = request
                if frame.token is not None:
                    headers = {**request.headers, "authorization": f"Bearer {frame.token}"}
                    subscriber = dataclasses.replace(request, headers=headers)
                self._check_subscription(subscriber, frame.channel, frame.order_id)
            return frame

        return self._refusing(request, check)

    def _check_subscription(self, request: Request, channel: str, order_id: str) -> None:
        if channel == "queue":
            self._admit_staff(request)
        elif channel == "order":
            self.service.get_order(order_id)
            self.telemetry.annotate(order_id=order_id)

    def _refusing(self, request: Request, check: Callable[[], T]) -> T | Response:
        """``check()``, or the finished error response for the café error it raised."""
        try:
            return check()
        except StoreUnavailable as error:
            self.telemetry.log("warning", "store fault", cause=repr(error.cause))
            return self._finish(request, self._reject(error))
        except CafeError as error:
            return self._finish(request, self._reject(error))

    def refuse(self, request: Request, error: CafeError | None) -> Response:
        """The finished error response for ``error`` (None: a fault of ours, 500), as ``handle``
        would have answered it: for a runtime that reaches an error outside ``handle``."""
        if isinstance(error, StoreUnavailable):
            self.telemetry.log("warning", "store fault", cause=repr(error.cause))
        if error is None:
            response = json_response(500, {"error": {"code": "internal_error", "message": "internal error"}})
        else:
            response = self._reject(error)
        return self._finish(request, response)

    def stream_headers(self, request: Request) -> dict[str, str]:
        """The headers of a live stream's response: the same security headers as every answer."""
        headers = {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",  # no proxy may buffer the stream
        }
        return self._finish(with_safe_request_id(request), Response(200, b"", headers)).headers

    def customer_page(self, request: Request) -> Response:
        return self.static_file(request, PAGES["customer_page"])

    def barista_page(self, request: Request) -> Response:
        return self.static_file(request, PAGES["barista_page"])

    def board_page(self, request: Request) -> Response:
        return self.static_file(request, PAGES["board_page"])

    def static_file(self, request: Request, name: str) -> Response:
        content, content_type, etag = asset(name)
        headers = {"ETag": etag, "Cache-Control": "no-cache", "Content-Type": content_type}
        return not_modified_or(request, Response(200, content, headers))
