"""Staff authentication: a bearer token compared in constant time."""

from __future__ import annotations

import hmac

from cafe.api.http import Request
from cafe.errors import AuthenticationRequired, NotPermitted


class HttpsRequired(NotPermitted):
    code = "https_required"


def require_staff(request: Request, staff_token: str | None) -> None:
    header = request.header("authorization") or ""
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise AuthenticationRequired("staff actions need an Authorization: Bearer <token> header")
    # With no token configured nobody is staff; compare anyway so timing says nothing.
    expected = (staff_token or "").encode()
    if not hmac.compare_digest(presented.strip().encode(), expected) or not staff_token:
        raise NotPermitted("the staff token is not valid")
