"""The café on AWS Lambda behind API Gateway (REST), as a Chalice app.

Thin by design: Chalice routes each path of the shared route table to ``CafeApi.dispatch``;
everything else (parsing, auth, errors) is the shared package's. The package reaches the
Lambda zip through ``vendor/`` (built by ``make package-lambda``), never as a copy in git.
"""

from __future__ import annotations

import gc

# Cold start: with the collector on, importing chalice and building the store client on top
# of boto3's heap triggers full collections that scan that whole heap (≈ half of our init
# time, bench/cold_init.py). Collect nothing during init, then freeze what init built so later
# collections never rescan it.
gc.disable()

from typing import Any  # noqa: E402

from chalice import Chalice, Response  # noqa: E402

from cafe.api import ROUTES, Request, Route, build_api  # noqa: E402

app = Chalice(app_name="cafe")
# Built during the Lambda init phase, once per execution environment, store client included.
cafe_api = build_api("lambda")
cafe_api.service.store.connect()
# Accept any body type: the shared parser decides what is valid and answers in JSON.
ACCEPTED_TYPES = [
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
]


def _request_id(context: dict[str, Any]) -> str:
    """API Gateway's request id, else the Lambda invocation's (chalice local has only that)."""
    lambda_context = app.lambda_context
    return str(context.get("requestId") or getattr(lambda_context, "aws_request_id", ""))


def _view(route: Route) -> Any:
    def view(**params: str) -> Response:
        current = app.current_request
        request = Request(
            method=current.method,
            path=route.template.format(**params),
            headers={name.lower(): value for name, value in current.headers.items()},
            query=dict(current.query_params or {}),
            body=current.raw_body or b"",
            request_id=_request_id(current.context),
        )
        response = cafe_api.dispatch(route, params, request)
        return Response(body=response.body.decode(), status_code=response.status, headers=response.headers)

    view.__name__ = route.handler
    return view


for _route in ROUTES:
    app.route(_route.template, methods=[_route.method], name=_route.handler, content_types=ACCEPTED_TYPES)(
        _view(_route)
    )

gc.freeze()
gc.enable()
