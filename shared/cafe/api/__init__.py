"""The HTTP-neutral API shared by the three runtimes.

``build_api(runtime)`` wires configuration, store, service and telemetry together;
adapters then call ``CafeApi.handle`` (or ``dispatch`` when their framework routes).
"""

from __future__ import annotations

import os

from cafe.api.application import CafeApi
from cafe.api.guard import StaffGuard
from cafe.api.http import MAX_BODY_BYTES, Request, Response, new_request_id
from cafe.api.origin import Origin
from cafe.api.routes import ROUTES, Route
from cafe.config import Config

__all__ = [
    "MAX_BODY_BYTES",
    "ROUTES",
    "CafeApi",
    "Origin",
    "Request",
    "Response",
    "Route",
    "StaffGuard",
    "build_api",
    "new_request_id",
]


def build_api(runtime: str, config: Config | None = None) -> CafeApi:
    from cafe.domain.menu import load_menu
    from cafe.observability import Telemetry, flush_interval_for
    from cafe.service import CafeService
    from cafe.stores import build_store

    config = config or Config.from_env()
    service = CafeService(build_store(config), load_menu(config.currency, config.menu_path), zone=config.zone)
    telemetry = Telemetry(runtime, flush_interval=flush_interval_for(runtime))
    staff_token = config.staff_token
    if staff_token is None and config.staff_token_parameter:
        from cafe.secrets import read_secure_parameter

        staff_token = read_secure_parameter(config.staff_token_parameter)
    api = CafeApi(
        service,
        runtime=runtime,
        staff_token=staff_token,
        telemetry=telemetry,
        origin=Origin.from_env(),
        guard=StaffGuard.from_env(),
        staff_require_https=os.environ.get("CAFE_STAFF_REQUIRE_HTTPS", "0") == "1",
        websocket_url=config.websocket_url,
    )
    if staff_token is None:
        telemetry.logger.warning("CAFE_STAFF_TOKEN is not set: every staff action will be refused")
    return api
