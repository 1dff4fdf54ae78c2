"""The runtimes in their deployed shapes: the figures come from the templates, the processes sit in
their envelopes while they run, and no cgroup outlives the run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compare.local.cafe import LocalCafe
from compare.local.envelopes import PARENT, Envelopes, Limits
from compare.local.processes import free_port
from compare.local.runtimes import RunOptions
from compare.local.shapes import ec2_shape, fargate_shape, lambda_shape

ROOT = Path("/sys/fs/cgroup")


def test_shapes_follow_the_templates_and_the_lambda_rule() -> None:
    assert lambda_shape(512).cpu_vcpu == pytest.approx(0.2894, abs=1e-4)
    assert lambda_shape(1769).cpu_vcpu == pytest.approx(1.0)
    fargate = fargate_shape()
    assert (fargate.cpu_vcpu, fargate.memory_mb, fargate.workers) == (0.25, 512, 1)
    full = ec2_shape("full")
    assert (full.cpu_vcpu, full.memory_mb, full.workers) == (2.0, 2048, 2)
    exhausted = ec2_shape("exhausted")
    assert exhausted.cpu_vcpu == pytest.approx(0.4)  # t4g.small: 20 % of each of 2 vCPUs
    assert "exhausted" in (exhausted.credits or "")


def test_quota_never_under_the_kernels_minimum() -> None:
    assert Limits(0.001, None).quota_us() == 1000
    assert Limits(0.25, None).quota_us() == 25_000
    assert Limits(None, None).quota_us() is None


def _groups(name: str) -> list[Path]:
    """This test process's groups only (another test may hold envelopes of its own meanwhile)."""
    mine = f"cafe-envelope-{os.getpid()}-{name}"
    return list(ROOT.glob(f"*/{PARENT}/{mine}")) + list(ROOT.glob(f"{PARENT}/{mine}"))


@pytest.mark.live
@pytest.mark.skipif(not Envelopes.open().enforced, reason="cgroups cannot be written here: runs uncapped")
def test_server_runtimes_run_inside_their_envelopes_and_leave_nothing(tmp_path: Path) -> None:
    env = {"CAFE_STORE": "sqlite", "CAFE_SQLITE_PATH": str(tmp_path / "c.sqlite3"), "CAFE_STAFF_TOKEN": "t"}
    cafe = LocalCafe(
        env,
        {"fargate": free_port(), "ec2": free_port()},
        tmp_path,
        ("fargate", "ec2"),
        RunOptions(envelopes=True, ec2_credits="exhausted"),
    )
    with cafe:
        assert cafe.envelope("fargate").enforced
        assert (cafe.envelope("fargate").cpu_vcpu, cafe.envelope("fargate").memory_mb) == (0.25, 512)
        assert cafe.envelope("ec2").cpu_vcpu == pytest.approx(0.4)
        for name, quota in (("fargate", "25000"), ("ec2", "40000")):
            pid = cafe.processes[name].pid
            membership = Path(f"/proc/{pid}/cgroup").read_text()
            assert "cafe-envelope-" in membership and name in membership
            cpu_dir = next(
                path for path in _groups(name) if path.parent.parent.name in ("cpu", "cpu,cpuacct")
            )
            assert (cpu_dir / "cpu.cfs_quota_us").read_text().strip() == quota
    assert _groups("fargate") == [] and _groups("ec2") == []
