"""The HTTP-neutral API shared by the three runtimes.

``build_api(runtime)`` wires configuration, store, service and telemetry together;
adapters then call ``CafeApi.handle`` (or ``dispatch`` when their framework routes).
"""

from __future__ import annotations

from cafe.api.application import CafeApi
from cafe.api.http import MAX_BODY_BYTES, Request, Response
from cafe.api.routes import ROUTES, Route
from cafe.config import Config

__all__ = ["MAX_BODY_BYTES", "ROUTES", "CafeApi", "Request", "Response", "Route", "build_api"]


def build_api(runtime: str, config: Config | None = None) -> CafeApi:
    from cafe.domain.menu import load_menu
    from cafe.observability import Telemetry
    from cafe.service import CafeService
    from cafe.stores import build_store

    config = config or Config.from_env()
    service = CafeService(build_store(config), load_menu(config.currency, config.menu_path), zone=config.zone)
    telemetry = Telemetry(runtime)
    staff_token = config.staff_token
    if staff_token is None and config.staff_token_parameter:
        from cafe.secrets import read_secure_parameter

        staff_token = read_secure_parameter(config.staff_token_parameter)
    api = CafeApi(service, runtime=runtime, staff_token=staff_token, telemetry=telemetry)
    if staff_token is None:
        telemetry.logger.warning("CAFE_STAFF_TOKEN is not set: every staff action will be refused")
    return api
