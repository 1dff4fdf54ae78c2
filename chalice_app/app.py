"""The café on AWS Lambda behind API Gateway (REST), as a Chalice app.

Thin by design: Chalice routes each path of the shared route table to ``CafeApi.dispatch``;
everything else (parsing, auth, errors) is the shared package's. The package reaches the
Lambda zip through ``vendor/`` (built by ``make package-lambda``), never as a copy in git.

Live push (issue 28, docs/live.md): API Gateway's WebSocket API holds the clients' connections
and invokes ``ws_connect`` / ``ws_message`` / ``ws_disconnect``; the order book's DynamoDB stream
invokes ``order_book_stream``, which posts each change to the subscribers. All four only hand
their event to ``cafe.live.websocket``.
"""

from __future__ import annotations

import gc

# Cold start: with the collector on, importing chalice and building the store client on top
# of boto3's heap triggers full collections that scan that whole heap (≈ half of our init
# time, bench/cold_init.py). Collect nothing during init, then freeze what init built so later
# collections never rescan it.
gc.disable()

import os  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from chalice import Chalice, Response  # noqa: E402
from chalice.app import DynamoDBEvent, WebsocketEvent  # noqa: E402

from cafe.api import ROUTES, Request, Route, build_api  # noqa: E402
from cafe.api import Response as CafeResponse  # noqa: E402

if TYPE_CHECKING:
    from cafe.live.websocket import LiveSockets

app = Chalice(app_name="cafe")
app.experimental_feature_flags.update(["WEBSOCKETS"])
# Built during the Lambda init phase, once per execution environment, store client included.
cafe_api = build_api("lambda")
cafe_api.service.store.connect()
# Accept any body type: the shared parser decides what is valid and answers in JSON
# (Chalice's own 415 would not be the café's error document).
ACCEPTED_TYPES = ["*/*"]
# What API Gateway REST routes; every one of them not served on a path gets the shared 405.
GATEWAY_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _request_id(context: dict[str, Any]) -> str:
    """API Gateway's request id, else the Lambda invocation's (chalice local has only that)."""
    lambda_context = app.lambda_context
    return str(context.get("requestId") or getattr(lambda_context, "aws_request_id", ""))


def _request(template: str, params: dict[str, str]) -> Request:
    current = app.current_request
    context = current.context
    return Request(
        method=current.method,
        path=template.format(**params),
        headers={name.lower(): value for name, value in current.headers.items()},
        query=dict(current.query_params or {}),
        body=current.raw_body or b"",
        request_id=_request_id(context),
        # API Gateway's view of the caller; it serves only HTTPS, and names its domain
        # (chalice local does neither: it is plain HTTP on loopback).
        peer=str(context.get("identity", {}).get("sourceIp") or ""),
        scheme="https" if context.get("domainName") else "http",
    )


def _response(response: CafeResponse) -> Response:
    return Response(body=response.body.decode(), status_code=response.status, headers=response.headers)


def _view(route: Route) -> Any:
    def view(**params: str) -> Response:
        return _response(cafe_api.dispatch(route, params, _request(route.template, params)))

    view.__name__ = route.handler
    return view


def _not_allowed(template: str) -> Any:
    def view(**params: str) -> Response:
        return _response(cafe_api.handle(_request(template, params)))  # the shared 405 + Allow

    view.__name__ = "not_allowed_" + template
    return view


for _route in ROUTES:
    app.route(_route.template, methods=[_route.method], name=_route.handler, content_types=ACCEPTED_TYPES)(
        _view(_route)
    )
for _template in dict.fromkeys(route.template for route in ROUTES):
    _served = {route.method for route in ROUTES if route.template == _template}
    app.route(
        _template,
        methods=[method for method in GATEWAY_METHODS if method not in _served],
        name="not_allowed_" + _template,
        content_types=ACCEPTED_TYPES,
    )(_not_allowed(_template))


# -- live push over API Gateway WebSockets -----------------------------------------------
# The table's stream, which infra sets (its ARN is known only once the data stack exists).
# ``chalice package`` writes whatever this is into the event source mapping, so the
# placeholder says plainly what to set rather than naming a real stream.
STREAM_ARN_PLACEHOLDER = (
    "arn:aws:dynamodb:us-east-1:000000000000:table/cafe-orders/stream/SET-CAFE_TABLE_STREAM_ARN"
)
_live: LiveSockets | None = None


def _live_sockets() -> LiveSockets:
    """Built on first use: the HTTP function never imports the WebSocket side (cold start)."""
    global _live
    if _live is None:
        from cafe.live.websocket import LiveSockets

        _live = LiveSockets.from_env(cafe_api)
    return _live


@app.on_ws_connect()
def ws_connect(event: WebsocketEvent) -> dict[str, Any]:
    return _live_sockets().connect(event.connection_id)


@app.on_ws_message()
def ws_message(event: WebsocketEvent) -> dict[str, Any]:
    return _live_sockets().message(event.connection_id, event.to_dict())


@app.on_ws_disconnect()
def ws_disconnect(event: WebsocketEvent) -> dict[str, Any]:
    return _live_sockets().disconnect(event.connection_id)


@app.on_dynamodb_record(
    stream_arn=os.environ.get("CAFE_TABLE_STREAM_ARN") or STREAM_ARN_PLACEHOLDER,
    batch_size=100,
    starting_position="LATEST",
)
def order_book_stream(event: DynamoDBEvent) -> None:
    # A raised error fails the batch and Lambda retries it: delivery is at least once.
    _live_sockets().on_records(event.to_dict().get("Records", []))


gc.freeze()
gc.enable()
