"""CPU envelopes: the CFS quota of a fractional-vCPU task and a burstable instance's credits."""

from __future__ import annotations

import pytest

from compare.day.cpu import CfsQuota, CreditBalance


def test_work_within_the_quota_runs_at_full_speed() -> None:
    q = CfsQuota(0.25)  # 25 ms per 100 ms period
    assert q.finish(0.0, 0.010) == pytest.approx(0.010)


def test_work_beyond_the_quota_waits_for_the_next_period() -> None:
    q = CfsQuota(0.25)
    # 25 ms in the first period, then the remaining 5 ms at the start of the next one
    assert q.finish(0.0, 0.030) == pytest.approx(0.105)
    # the second period has 20 ms left: 30 ms more spills into the third
    assert q.finish(0.105, 0.030) == pytest.approx(0.210)


def test_a_sustained_load_gets_the_quota_share() -> None:
    q = CfsQuota(0.25)
    assert q.finish(0.0, 1.0) == pytest.approx(3.925)  # 1 s of CPU at 25 % ≈ 4 s of wall time


def test_the_quota_terminates_late_in_the_day() -> None:
    # float division near 86 400 s lands a hair short of period boundaries: it must still advance
    q = CfsQuota(0.29)
    t = 86_399.0
    for _ in range(2000):
        t = q.finish(t, 0.0173)
    assert t > 86_399.0 + 2000 * 0.0173


def test_standard_mode_throttles_to_the_baseline_when_credits_run_out() -> None:
    c = CreditBalance(vcpus=2, baseline=0.2, unlimited=False, balance=60.0)  # one credit left
    assert c.speed() == 1.0
    c.advance(1.0, used_cpu_s=100.0)
    assert c.balance == 0.0 and c.speed() == pytest.approx(0.2)
    c.advance(3601.0, used_cpu_s=0.0)  # an idle hour earns 2 × 0.2 × 3600 vCPU-s = 24 credits
    assert c.credits == pytest.approx(24.0)


def test_unlimited_mode_keeps_full_speed_and_counts_the_surplus() -> None:
    c = CreditBalance(vcpus=2, baseline=0.2, unlimited=True, balance=0.0)
    c.advance(10.0, used_cpu_s=20.0)  # earned 4 vCPU-s, used 20
    assert c.speed() == 1.0 and c.surplus_s == pytest.approx(16.0)
