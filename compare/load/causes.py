"""Who answered an error: the café itself, the front door in front of it, or nobody (transport).

A throttle or a failed start answered by API Gateway is not an application error, and a warm-up
that the front door absorbs must not be counted against the runtime as if the café had failed:
the body says who answered. The café's errors are always `{"error": {"code", ...}}` (README, "The
API"); API Gateway's own answers are `{"message": ...}` (a throttle is its 429; a Lambda throttle or
a failed invocation its 500/502, "Internal server error"; a timeout its 504); anything else (an
HTML page from a load balancer, a server's plain-text 500) came from outside the application.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

APPLICATION = "application"
FRONT_DOOR = "front_door"
OUTSIDE_APP = "outside_app"
TRANSPORT = "transport"
# Causes that are the runtime (or the path to it) not being ready, rather than the café answering.
NOT_THE_APP = (FRONT_DOOR, OUTSIDE_APP, TRANSPORT)

WORDS = {
    APPLICATION: "the café's own error",
    FRONT_DOOR: "answered by the front door (API Gateway)",
    OUTSIDE_APP: "not the café's answer (load balancer or server process)",
    TRANSPORT: "no answer (timeout or connection)",
}


def cause_of(status: int, body: bytes) -> str:
    """`kind:detail` for an unexpected answer: the café's error code, or the status and who gave it."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            return f"{APPLICATION}:{error['code']}"
        if "message" in parsed and "error" not in parsed:
            return f"{FRONT_DOOR}:{status}"
    if status >= 500 and not isinstance(parsed, dict):
        return f"{OUTSIDE_APP}:{status}"
    return f"{APPLICATION}:{status}"


def transport(what: str) -> str:
    return f"{TRANSPORT}:{what}"


def kind(cause: str) -> str:
    return cause.split(":", 1)[0]


def not_the_app(causes: Mapping[str, int]) -> dict[str, int]:
    """The errors that were not the café answering (front door, outside the app, transport)."""
    return {c: n for c, n in causes.items() if kind(c) in NOT_THE_APP and n}


def by_kind(causes: Mapping[str, int]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for cause, count in causes.items():
        totals[kind(cause)] = totals.get(kind(cause), 0) + count
    return totals


def describe(causes: Mapping[str, int]) -> str:
    """'none', or e.g. '12 front door (API Gateway) 500, 1 the café's own error store_busy'."""
    if not any(causes.values()):
        return "none"
    parts = []
    for cause, count in sorted(causes.items(), key=lambda item: (-item[1], item[0])):
        what, _, detail = cause.partition(":")
        parts.append(f"{count} {WORDS.get(what, what)} {detail}".rstrip())
    return ", ".join(parts)
