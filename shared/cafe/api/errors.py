"""The one table from domain errors to HTTP status codes, used by all three runtimes."""

from __future__ import annotations

from cafe.api.http import Response, json_response
from cafe.domain.menu import ItemSoldOut
from cafe.domain.orders import StaleVersion
from cafe.errors import (
    AuthenticationRequired,
    CafeError,
    Conflict,
    InvalidInput,
    MalformedRequest,
    NotFound,
    NotPermitted,
    PayloadTooLarge,
    TooManyRequests,
    Unavailable,
)
from cafe.service import IdempotencyKeyReused, StoreClosed
from cafe.stores.base import QueueFull


class MethodNotAllowed(CafeError):
    code = "method_not_allowed"


# How long a client should wait before trying a queue that was full: about one drink's time.
QUEUE_FULL_RETRY_SECONDS = 60
# A store that kept conflicting, was throttled, failing or unreachable: these pass in seconds.
UNAVAILABLE_RETRY_SECONDS = 5

# First match wins; subclasses inherit their family's status unless listed before it.
# A closed store and a full queue are the café's state, not a server fault: a 5xx would trip
# every load balancer and alarm (ALB HTTPCode_Target_5XX, API Gateway 5XXError). Closed is
# 409 (the order conflicts with the store's current state; only staff reopening changes it, so
# no Retry-After and no automatic retry). Full is 429 with Retry-After: it clears by itself as
# drinks are served, and HTTP clients' retry helpers already honour Retry-After on 429.
ERROR_STATUS: tuple[tuple[type[CafeError], int], ...] = (
    (MalformedRequest, 400),
    (AuthenticationRequired, 401),
    (NotPermitted, 403),
    (NotFound, 404),
    (MethodNotAllowed, 405),
    (StoreClosed, 409),
    (ItemSoldOut, 409),  # a valid request the menu's current state refuses, like a closed store
    # The body is fine (with a fresh key it would succeed); the key is bound to another order.
    # 409 like the same key still in progress, rather than the Idempotency-Key draft's 422:
    # 422 means "fix your body", and schema-valid bodies are accepted (schemathesis checks it).
    (IdempotencyKeyReused, 409),
    # If-Match named a version the order has left: HTTP's answer to a failed precondition.
    (StaleVersion, 412),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (InvalidInput, 422),
    (QueueFull, 429),
    (TooManyRequests, 429),
    (Unavailable, 503),
)


def status_for(error: CafeError) -> int:
    for family, status in ERROR_STATUS:
        if isinstance(error, family):
            return status
    return 400


def retry_after(error: CafeError, status: int) -> int | None:
    """Seconds for a Retry-After header, where waiting is what helps."""
    if isinstance(error, TooManyRequests):
        return error.retry_after
    if isinstance(error, QueueFull):
        return QUEUE_FULL_RETRY_SECONDS
    return UNAVAILABLE_RETRY_SECONDS if status == 503 else None


def error_response(error: CafeError) -> Response:
    status = status_for(error)
    headers = {"WWW-Authenticate": 'Bearer realm="cafe-staff"'} if status == 401 else {}
    seconds = retry_after(error, status)
    if seconds is not None:
        headers["Retry-After"] = str(seconds)
    document = {"error": {"code": error.code, "message": error.message, "details": error.details}}
    return json_response(status, document, headers)
