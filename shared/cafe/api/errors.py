"""The one table from domain errors to HTTP status codes, used by all three runtimes."""

from __future__ import annotations

from cafe.api.http import Response, json_response
from cafe.errors import (
    AuthenticationRequired,
    CafeError,
    Conflict,
    InvalidInput,
    MalformedRequest,
    NotFound,
    NotPermitted,
    PayloadTooLarge,
    Unavailable,
)


class MethodNotAllowed(CafeError):
    code = "method_not_allowed"


# First match wins; subclasses inherit their family's status.
ERROR_STATUS: tuple[tuple[type[CafeError], int], ...] = (
    (MalformedRequest, 400),
    (AuthenticationRequired, 401),
    (NotPermitted, 403),
    (NotFound, 404),
    (MethodNotAllowed, 405),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (InvalidInput, 422),
    (Unavailable, 503),
)


def status_for(error: CafeError) -> int:
    for family, status in ERROR_STATUS:
        if isinstance(error, family):
            return status
    return 400


def error_response(error: CafeError) -> Response:
    status = status_for(error)
    headers = {"WWW-Authenticate": 'Bearer realm="cafe-staff"'} if status == 401 else {}
    if status == 503:
        headers["Retry-After"] = "60"
    document = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return json_response(status, document, headers)
