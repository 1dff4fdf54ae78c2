"""CPU under a deployed envelope: a CFS bandwidth quota (Fargate task, Lambda environment) or a
burstable instance's credit balance (t4g/t3).

Both are pure arithmetic on simulated time, so the simulator needs no extra events for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

#: Linux's default CFS period (cpu.cfs_period_us = 100 ms); AWS does not document the one it uses.
CFS_PERIOD_S = 0.1
EPS = 1e-12


@dataclass
class CfsQuota:
    """One cgroup limited to ``vcpu`` of one core: ``vcpu × period`` of CPU per period, at most one
    core at a time (one worker process). Work runs at full speed until the period's quota is spent,
    then waits for the next period — how a 0.25 vCPU task really slows down."""

    vcpu: float
    period_s: float = CFS_PERIOD_S
    _end: float = -1.0  # end of the current period
    _used: float = 0.0

    def _enter(self, t: float) -> None:
        """Make the period holding ``t`` current (a fresh quota when it is a new one)."""
        if t < self._end - EPS:
            return
        end = (math.floor(t / self.period_s + 1e-9) + 1) * self.period_s
        while end <= t + EPS:  # float division can land a hair short of the boundary
            end += self.period_s
        self._end, self._used = end, 0.0

    def finish(self, start: float, cpu_s: float) -> float:
        """When ``cpu_s`` of work started at ``start`` completes (calls must come in time order)."""
        if self.vcpu >= 1.0:
            return start + cpu_s
        quota = self.vcpu * self.period_s
        t, remaining = start, cpu_s
        while remaining > EPS:
            self._enter(t)
            run = min(remaining, quota - self._used, self._end - t)
            if run > 0:
                t += run
                self._used += run
                remaining -= run
            if remaining > EPS:  # the quota is spent (or the period is over): wait for the next
                t = self._end
                self._end, self._used = self._end + self.period_s, 0.0
        return t


@dataclass
class CreditBalance:
    """A burstable instance's CPU credits in vCPU-seconds (1 credit = 1 vCPU-minute at 100 %).

    Earns ``baseline × vcpus`` per second while running, spends the CPU used, holds at most 24 h
    of earnings. Starts full (the resource-envelope work's default) unless told otherwise.
    """

    vcpus: float
    baseline: float
    unlimited: bool = True
    balance: float = field(default=-1.0)
    _t: float = 0.0
    surplus_s: float = 0.0

    def __post_init__(self) -> None:
        if self.balance < 0:
            self.balance = self.cap

    @property
    def cap(self) -> float:
        return self.vcpus * self.baseline * 24 * 3600

    def advance(self, now: float, used_cpu_s: float) -> None:
        """Account the CPU used since the last call, and the credits earned meanwhile."""
        earned = (now - self._t) * self.vcpus * self.baseline
        self._t = now
        self.balance = min(self.cap, self.balance + earned) - used_cpu_s
        if self.balance < 0:
            if self.unlimited:
                self.surplus_s += -self.balance
            self.balance = 0.0

    def speed(self) -> float:
        """CPU speed per vCPU: full while credits last (or in unlimited mode), else the baseline."""
        return 1.0 if self.unlimited or self.balance > 0 else self.baseline

    @property
    def credits(self) -> float:
        return self.balance / 60.0
