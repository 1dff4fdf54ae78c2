"""The base of every error the café raises; the concrete errors live next to what raises them.

::

    CafeError                      code, message, details
    ├── InvalidInput               the request is understood but its content is wrong
    │   ├── ValidationFailed       (api.parsing) a field has the wrong type or range
    │   ├── UnknownItem            (domain.menu) no such menu item
    │   ├── InvalidOption          (domain.menu) option name or value not offered
    │   ├── ItemSoldOut            (domain.menu) item marked unavailable
    │   └── IdempotencyKeyReused   (service) same key, different body
    ├── MalformedRequest           (api.parsing) body is not JSON / not an object
    ├── PayloadTooLarge            (api.parsing) body over the limit
    ├── NotFound
    │   ├── OrderNotFound          (domain.orders)
    │   ├── RouteNotFound          (api.routes)
    │   └── AssetNotFound          (api.static) no such page file
    ├── Conflict
    │   ├── TransitionRefused      (domain.orders) the status machine says no
    │   ├── ConcurrentUpdate       (stores) someone changed the order first
    │   └── StaleVersion           (domain.orders) If-Match names a version the order has left
    ├── Unavailable
    │   ├── StoreClosed            (service)
    │   ├── QueueFull              (stores) max_waiting reached
    │   ├── StoreBusy              (stores.dynamodb) transactions kept conflicting or throttled
    │   └── StoreUnavailable       (stores) the store throttled, failed or was unreachable
    ├── TooManyRequests            (api.guard) this client failed the staff token too often
    ├── AuthenticationRequired     (api.auth) no staff token
    ├── NotPermitted               (api.auth) wrong staff token
    │   └── HttpsRequired          (api.auth) a staff call over plain HTTP where HTTPS is required
    ├── MethodNotAllowed           (api.errors) the path exists, the method does not
    └── ConfigurationError         (config) bad settings at start-up, never for a request

The HTTP layer maps the second level to status codes in one table (``cafe.api.errors``);
the domain itself knows nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class CafeError(Exception):
    """Base class: a stable machine-readable ``code`` and a human message."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = dict(details or {})


class InvalidInput(CafeError):
    code = "invalid_input"


class MalformedRequest(CafeError):
    code = "malformed_request"


class PayloadTooLarge(CafeError):
    code = "payload_too_large"


class NotFound(CafeError):
    code = "not_found"


class Conflict(CafeError):
    code = "conflict"


class Unavailable(CafeError):
    code = "unavailable"


class TooManyRequests(CafeError):
    """Refused until ``retry_after`` seconds have passed."""

    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, {"retry_after_seconds": retry_after, **(details or {})})
        self.retry_after = retry_after


class AuthenticationRequired(CafeError):
    code = "authentication_required"


class NotPermitted(CafeError):
    code = "not_permitted"
