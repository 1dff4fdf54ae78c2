"""``make run-lambda``: ``chalice local``, plus the café's 405 for methods it does not know.

``chalice local`` is Python's ``http.server``: a method without a ``do_<METHOD>`` (TRACE,
CONNECT, PROPFIND...) gets ``501`` and an HTML page before the app is reached. On AWS, API
Gateway answers those methods itself and the Lambda never sees them (README, "Where the
runtimes differ"). Locally we control the server, so such a request gets what the other two
runtimes answer: the shared API's 405 with ``Allow`` and the error JSON. Everything else is
plain ``chalice local``, run from this directory with the same arguments.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from chalice.cli import main
from chalice.local import ChaliceRequestHandler


def _answer_unknown_method(handler: Any) -> None:
    from app import cafe_api  # the app module chalice local itself loaded (same process)

    from cafe.api import Request

    length = int(handler.headers.get("Content-Length") or 0)
    if length > 0:
        handler.rfile.read(length)  # keep the connection's framing intact
    path = handler.path.partition("?")[0]
    request = Request(
        method=handler.command,
        path=path,
        headers={name.lower(): value for name, value in handler.headers.items()},
        peer=handler.client_address[0],
    )
    response = cafe_api.handle(request)
    handler._send_http_response(response.status, dict(response.headers), response.body)


def _unknown_method(handler: Any, name: str) -> Callable[[], None]:
    if name.startswith("do_"):
        return lambda: _answer_unknown_method(handler)
    raise AttributeError(name)


# http.server looks the method up with hasattr(handler, "do_" + method): this is reached only
# for methods the class does not define.
ChaliceRequestHandler.__getattr__ = _unknown_method  # type: ignore[attr-defined]

if __name__ == "__main__":
    sys.argv[0] = "chalice"
    sys.exit(main())
