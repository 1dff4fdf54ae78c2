"""The emulator's functions: names, log files and the environment variables they all get.

On AWS the HTTP API, the three WebSocket routes and the stream handler are separate functions
(`chalice package` makes one per handler), each with its own environments, cold starts,
concurrency and log group. Here each is a `Pool`, and each writes its REPORT lines to its own
file beside `--log` (the HTTP function's), so a count of the HTTP function's cold starts stays
its own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from compare.local.lambda_emu.runtime import FUNCTION_NAME
from compare.local.lambda_emu.websocket import WS_PATH
from compare.local.lambda_emu.ws_events import STAGE

WS_HANDLERS = ("app.ws_connect", "app.ws_message", "app.ws_disconnect")  # the spec's names
STREAM_HANDLER = "app.order_book_stream"

# Lambda always puts the execution role's credentials in the environment; boto3 needs some to
# sign its calls (the @connections endpoint here does not check them). Given only where the
# caller's environment names no credentials of its own, so a real profile is never shadowed.
_PLACEHOLDER_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
_CREDENTIAL_SOURCES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


def function_name(handler: str, http_handler: str) -> str:
    """The HTTP function keeps the emulator's name; the others are named after their handler."""
    if handler == http_handler:
        return FUNCTION_NAME
    return f"{FUNCTION_NAME}-{handler.rpartition('.')[2]}"


def log_path(http_log: Path, handler: str, http_handler: str) -> Path:
    """`lambda.log` → `lambda.ws_connect.log`: one "log group" per function."""
    if handler == http_handler:
        return http_log
    return http_log.with_name(f"{http_log.stem}.{handler.rpartition('.')[2]}{http_log.suffix or '.log'}")


def _has_credentials(env: Mapping[str, str]) -> bool:
    if any(env.get(name) for name in _CREDENTIAL_SOURCES):
        return True
    home = Path(env.get("HOME") or os.path.expanduser("~"))
    files = (
        env.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials",
        env.get("AWS_CONFIG_FILE") or home / ".aws" / "config",
    )
    return any(Path(path).is_file() for path in files)


def function_environment(host: str, port: int, *, websocket: bool, base: Mapping[str, str]) -> dict[str, str]:
    """What every function's environments get beyond the caller's environment (`base`)."""
    env: dict[str, str] = {}
    if websocket:
        # Where clients connect (GET /live answers it) and where the functions post back.
        env["CAFE_WS_URL"] = f"ws://{host}:{port}{WS_PATH}"
        env["CAFE_WS_CALLBACK_URL"] = f"http://{host}:{port}/{STAGE}"
    if not _has_credentials(base):
        env.update(_PLACEHOLDER_CREDENTIALS)
    return env


def public_host(host: str) -> str:
    """A host a client can reach: a wildcard bind address is reached on loopback."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 - compared, not bound
