"""One invocation of a function as its callers other than the HTTP front see it: an outcome.

The WebSocket front and the stream poller only need to know whether the function answered and
with what; throttles, timeouts and dead environments are outcomes for them, not exceptions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compare.local.lambda_emu.runtime import EnvironmentFailed, InvocationTimeout, Pool, Throttled


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok" | "error" (the handler raised) | "throttled" | "timeout" | "failed"
    result: Any = None  # the handler's return value when ok

    @property
    def ok(self) -> bool:
        return self.status == "ok"


async def invoke(pool: Pool, event: Mapping[str, Any]) -> Outcome:
    """Run `event` on `pool`'s function and say how it went."""
    try:
        kind, body, _record = await pool.invoke(json.dumps(event).encode())
    except Throttled:
        return Outcome("throttled")
    except InvocationTimeout:
        return Outcome("timeout")
    except EnvironmentFailed:
        return Outcome("failed")
    if kind != "response":
        return Outcome("error")
    try:
        return Outcome("ok", json.loads(body))
    except ValueError:
        return Outcome("failed")
