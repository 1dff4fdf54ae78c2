"""Staff token brute force: after repeated wrong tokens from one client, refuse its staff calls.

State is per process (a Lambda execution environment, a Fargate task's worker, a gunicorn
worker): an attacker spread over many processes gets proportionally more guesses, so this is
the last line, not the first — the front door (API Gateway stage throttling, the optional WAF
rate rule on the ALBs) is the real limit. A 256-bit token is not guessable anyway; what this
stops is a script hammering the staff routes and filling the logs.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cafe.errors import TooManyRequests

# Ten wrong tokens within five minutes locks the client out for fifteen.
MAX_FAILURES = 10
WINDOW_SECONDS = 300
LOCKOUT_SECONDS = 900
# Clients remembered at most (oldest forgotten first): memory stays bounded under a spread attack.
MAX_CLIENTS = 10_000


class StaffLockedOut(TooManyRequests):
    code = "staff_locked_out"


@dataclass
class StaffGuard:
    max_failures: int = MAX_FAILURES
    window_seconds: float = WINDOW_SECONDS
    lockout_seconds: float = LOCKOUT_SECONDS
    max_clients: int = MAX_CLIENTS
    clock: Callable[[], float] = time.monotonic
    _failures: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)
    _locked_until: OrderedDict[str, float] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StaffGuard:
        env = os.environ if env is None else env
        return cls(
            max_failures=int(env.get("CAFE_STAFF_MAX_FAILURES", MAX_FAILURES)),
            window_seconds=float(env.get("CAFE_STAFF_FAILURE_WINDOW_SECONDS", WINDOW_SECONDS)),
            lockout_seconds=float(env.get("CAFE_STAFF_LOCKOUT_SECONDS", LOCKOUT_SECONDS)),
        )

    def check(self, client: str) -> None:
        """Raise ``StaffLockedOut`` while ``client`` is locked out."""
        with self._lock:
            until = self._locked_until.get(client)
            if until is None:
                return
            remaining = until - self.clock()
            if remaining <= 0:
                del self._locked_until[client]
                return
        raise StaffLockedOut(
            "too many wrong staff tokens from this client; try again later", math.ceil(remaining)
        )

    def failed(self, client: str) -> bool:
        """Record a wrong token; True when this failure locks the client out."""
        now = self.clock()
        with self._lock:
            recent = self._failures.pop(client, None) or deque()
            recent.append(now)
            while recent and recent[0] <= now - self.window_seconds:
                recent.popleft()
            if len(recent) < self.max_failures:
                self._failures[client] = recent  # re-inserted last: the most recently seen
                self._forget_oldest(self._failures)
                return False
            self._locked_until.pop(client, None)
            self._locked_until[client] = now + self.lockout_seconds
            self._forget_oldest(self._locked_until)
            return True

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _forget_oldest(self, table: OrderedDict[str, Any]) -> None:
        while len(table) > self.max_clients:
            table.popitem(last=False)
