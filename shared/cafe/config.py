"""Configuration from environment variables (the README lists them all)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from cafe.errors import CafeError

STORES = ("sqlite", "dynamodb", "memory")
# A host name or address with an optional port, as a URL's authority holds it (no user part).
HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class ConfigurationError(CafeError):
    """A setting is missing or wrong: raised at start-up, never for a request."""

    code = "configuration_error"


@dataclass(frozen=True)
class Config:
    store: str = "sqlite"
    sqlite_path: str = "var/cafe.sqlite3"
    table: str = "cafe-orders"
    dynamodb_endpoint: str | None = None
    staff_token: str | None = None
    staff_token_parameter: str | None = None
    currency: str = "KRW"
    timezone: str = "Asia/Seoul"
    menu_path: str | None = None
    # Where clients connect for live push over WebSockets (Lambda: API Gateway's WebSocket
    # API); unset: the runtime serves server-sent events itself, or the pages poll.
    websocket_url: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        config = cls(
            store=env.get("CAFE_STORE", cls.store),
            sqlite_path=env.get("CAFE_SQLITE_PATH", cls.sqlite_path),
            table=env.get("CAFE_TABLE", cls.table),
            dynamodb_endpoint=env.get("CAFE_DYNAMODB_ENDPOINT") or None,
            staff_token=env.get("CAFE_STAFF_TOKEN") or None,
            staff_token_parameter=env.get("CAFE_STAFF_TOKEN_PARAMETER") or None,
            currency=env.get("CAFE_CURRENCY", cls.currency),
            timezone=env.get("CAFE_TIMEZONE", cls.timezone),
            menu_path=env.get("CAFE_MENU_PATH") or None,
            websocket_url=env.get("CAFE_WS_URL") or None,
        )
        config.validate()
        return config

    def validate(self) -> None:
        if self.store not in STORES:
            raise ConfigurationError(f"CAFE_STORE must be one of {', '.join(STORES)}, not {self.store!r}")
        try:
            self.zone  # noqa: B018 - validates the name
        except Exception as exc:  # zoneinfo raises several types for a bad key
            raise ConfigurationError(f"CAFE_TIMEZONE {self.timezone!r} is not a known time zone") from exc
        if not (len(self.currency) == 3 and self.currency.isalpha() and self.currency.isupper()):
            raise ConfigurationError(f"CAFE_CURRENCY must be an ISO 4217 code, not {self.currency!r}")
        if self.websocket_url is not None and self.websocket_origin is None:
            raise ConfigurationError(f"CAFE_WS_URL must be a ws:// or wss:// URL, not {self.websocket_url!r}")

    @property
    def websocket_origin(self) -> str | None:
        """``CAFE_WS_URL``'s scheme and host (what the pages' CSP lets them connect to), if valid."""
        return websocket_origin(self.websocket_url)


def websocket_origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    # Only what a CSP source may hold: the URL ends up in a response header.
    if parts.scheme not in ("ws", "wss") or not HOST.fullmatch(parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc}"
