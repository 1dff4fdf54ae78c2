"""CPU and memory envelopes for local processes: Linux cgroups, v2 where writable, else v1.

A runtime measured here must get the CPU and memory it would have when deployed (a 512 MB Lambda
environment is about 0.29 vCPU on AWS, a default Fargate task 0.25 vCPU), or the comparison
measures this machine instead. Each envelope is one cgroup:

- v2 (unified): ``cpu.max`` = "quota period", ``memory.max``, ``cgroup.freeze``.
- v1: ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``, ``memory.limit_in_bytes``, the freezer's
  ``freezer.state``.

Groups are named ``cafe-envelope-<owner pid>-<name>`` under one parent folder per hierarchy, so a
later run can sweep the groups a crashed run left behind (owner pid no longer alive). Where
neither version can be written (no root), `Envelopes.open` returns an unenforced set whose groups
do nothing, and says so: the caller must show that the figures were taken uncapped.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Literal

ROOT = Path("/sys/fs/cgroup")
PARENT = "cafe-envelopes"
PERIOD_US = 100_000  # the kernel's default CFS period; the quota scales with it
Mechanism = Literal["cgroup-v2", "cgroup-v1", "none"]


#: "At 1,769 MB, a function has the equivalent of one vCPU" (Lambda developer guide, "Configuring
#: Lambda function memory"): the one place the emulator, the shapes and the day model read it from.
LAMBDA_MB_PER_VCPU = 1769


@dataclass(frozen=True)
class Limits:
    """What one envelope allows: vCPUs (fractions allowed) and memory in MiB; None = uncapped."""

    cpu_vcpu: float | None
    memory_mb: int | None

    @classmethod
    def lambda_environment(cls, memory_mb: int) -> Limits:
        """One Lambda execution environment: CPU in proportion to its memory."""
        return cls(memory_mb / LAMBDA_MB_PER_VCPU, memory_mb)

    def quota_us(self) -> int | None:
        if self.cpu_vcpu is None:
            return None
        # The kernel refuses quotas under 1 ms; a 0.05 vCPU envelope would be 5 ms per 100 ms.
        return max(1000, math.ceil(self.cpu_vcpu * PERIOD_US))


class Group(ABC):
    """One envelope: processes added to it share its CPU quota and memory limit."""

    name: str

    @abstractmethod
    def add(self, pid: int) -> None: ...

    @abstractmethod
    def freeze(self) -> None: ...

    @abstractmethod
    def thaw(self) -> None: ...

    @abstractmethod
    def cpu_seconds(self) -> float:
        """CPU time used by every process that has been in the group (0.0 where not enforced)."""

    @abstractmethod
    def remove(self) -> None: ...


class _Unenforced(Group):
    """Where cgroups cannot be written: nothing is capped (the report must say so)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pids: list[int] = []

    def add(self, pid: int) -> None:
        self.pids.append(pid)

    def freeze(self) -> None:
        # Best effort without cgroups: SIGSTOP keeps the lifecycle (nothing runs between events).
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def cpu_seconds(self) -> float:
        return 0.0

    def remove(self) -> None:
        self.thaw()


def _write(path: Path, value: str) -> None:
    path.write_text(value, encoding="ascii")


def _rmdir_when_empty(path: Path, procs: str, parent_procs: Path, kill: bool = False) -> None:
    """Move whatever is left in the group to its parent (or kill it), then remove the group."""
    if not path.exists():
        return
    for _ in range(50):
        with contextlib.suppress(OSError):
            for pid in (path / procs).read_text(encoding="ascii").split():
                with contextlib.suppress(OSError):
                    if kill:
                        os.kill(int(pid), signal.SIGKILL)
                    else:
                        _write(parent_procs, pid)
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)  # a process still exiting: the kernel releases the group shortly
    raise OSError(f"could not remove cgroup {path}")


class _V2Group(Group):
    def __init__(self, base: Path, name: str, limits: Limits) -> None:
        self.name = name
        self.path = base / name
        self.path.mkdir()
        quota = limits.quota_us()
        _write(self.path / "cpu.max", f"{quota if quota else 'max'} {PERIOD_US}")
        memory = limits.memory_mb
        _write(self.path / "memory.max", str(memory * 1024 * 1024) if memory else "max")
        if memory:
            _write(self.path / "memory.swap.max", "0")

    def add(self, pid: int) -> None:
        _write(self.path / "cgroup.procs", str(pid))

    def freeze(self) -> None:
        _write(self.path / "cgroup.freeze", "1")

    def thaw(self) -> None:
        _write(self.path / "cgroup.freeze", "0")

    def cpu_seconds(self) -> float:
        for line in (self.path / "cpu.stat").read_text(encoding="ascii").splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
        return 0.0

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.thaw()
        _rmdir_when_empty(self.path, "cgroup.procs", self.path.parent.parent / "cgroup.procs")


class _V1Group(Group):
    CONTROLLERS = ("cpu", "cpuacct", "memory", "freezer")

    def __init__(self, bases: dict[str, Path], name: str, limits: Limits) -> None:
        self.name = name
        self.paths = {c: bases[c] / name for c in self.CONTROLLERS}
        for path in dict.fromkeys(self.paths.values()):  # cpu and cpuacct may share a mount
            path.mkdir(exist_ok=True)
        quota = limits.quota_us()
        _write(self.paths["cpu"] / "cpu.cfs_period_us", str(PERIOD_US))
        _write(self.paths["cpu"] / "cpu.cfs_quota_us", str(quota if quota else -1))
        if limits.memory_mb:
            _write(self.paths["memory"] / "memory.limit_in_bytes", str(limits.memory_mb * 1024 * 1024))
            with contextlib.suppress(OSError):  # absent where swap accounting is off
                _write(
                    self.paths["memory"] / "memory.memsw.limit_in_bytes",
                    str(limits.memory_mb * 1024 * 1024),
                )

    def add(self, pid: int) -> None:
        for path in dict.fromkeys(self.paths.values()):
            _write(path / "cgroup.procs", str(pid))

    def _freezer(self, state: str) -> None:
        _write(self.paths["freezer"] / "freezer.state", state)
        for _ in range(200):  # FREEZING → FROZEN is asynchronous
            if (self.paths["freezer"] / "freezer.state").read_text(encoding="ascii").strip() == state:
                return
            time.sleep(0.001)

    def freeze(self) -> None:
        self._freezer("FROZEN")

    def thaw(self) -> None:
        self._freezer("THAWED")

    def cpu_seconds(self) -> float:
        return int((self.paths["cpuacct"] / "cpuacct.usage").read_text(encoding="ascii")) / 1e9

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.thaw()
        for path in dict.fromkeys(self.paths.values()):
            _rmdir_when_empty(path, "cgroup.procs", path.parent.parent / "cgroup.procs")


def _v2_base() -> Path | None:
    """The v2 hierarchy if it is mounted at the root with cpu and memory delegable, else None."""
    controllers = ROOT / "cgroup.controllers"
    if not controllers.exists():
        return None
    have = set(controllers.read_text(encoding="ascii").split())
    if not {"cpu", "memory"} <= have:
        return None
    try:
        _write(ROOT / "cgroup.subtree_control", "+cpu +memory")
        base = ROOT / PARENT
        base.mkdir(exist_ok=True)
        _write(base / "cgroup.subtree_control", "+cpu +memory")
    except OSError:
        return None
    return base


def _v1_bases() -> dict[str, Path] | None:
    bases: dict[str, Path] = {}
    try:
        for controller in _V1Group.CONTROLLERS:
            mount = ROOT / controller
            if not (mount / "cgroup.procs").exists():
                return None
            bases[controller] = mount / PARENT
            bases[controller].mkdir(exist_ok=True)
            probe = bases[controller] / f"probe-{os.getpid()}"
            probe.mkdir(exist_ok=True)
            probe.rmdir()
    except OSError:
        return None
    return bases


_OWNED = re.compile(r"^cafe-envelope-(\d+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Envelopes:
    """The envelopes of one run; a context manager that removes every group it made.

    Groups left by a run that crashed or was killed are swept when the next one opens.
    SIGTERM is turned into the normal exit path so the cleanup runs; Ctrl-C already is one.
    """

    def __init__(self, mechanism: Mechanism, v2: Path | None, v1: dict[str, Path] | None) -> None:
        self.mechanism: Mechanism = mechanism
        self._v2 = v2
        self._v1 = v1
        self._groups: list[Group] = []
        self._previous_sigterm: object = None

    @classmethod
    def open(cls, prefer: Mechanism | None = None) -> Envelopes:
        """Detect what this machine lets us write; `prefer="none"` forces an uncapped run."""
        if prefer != "none":
            if prefer in (None, "cgroup-v2") and (base := _v2_base()) is not None:
                return cls("cgroup-v2", base, None)
            if prefer in (None, "cgroup-v1") and (bases := _v1_bases()) is not None:
                return cls("cgroup-v1", None, bases)
        return cls("none", None, None)

    @property
    def enforced(self) -> bool:
        return self.mechanism != "none"

    def parents(self) -> list[Path]:
        if self._v2 is not None:
            return [self._v2]
        return list(dict.fromkeys(self._v1.values())) if self._v1 else []

    def sweep_stale(self) -> list[str]:
        """Remove groups whose owning run is gone, killing what is left in them; their names.

        A group that cannot be removed (a process stuck in the kernel) is left and reported on
        stderr rather than stopping this run.
        """
        stale: dict[str, list[Path]] = {}
        for parent in self.parents():
            for child in parent.iterdir():
                match = _OWNED.match(child.name)
                if child.is_dir() and match and not _alive(int(match.group(1))):
                    stale.setdefault(child.name, []).append(child)
        for paths in stale.values():
            # Thaw first: a frozen process cannot act on its SIGKILL.
            for path in paths:
                for switch, value in (("cgroup.freeze", "0"), ("freezer.state", "THAWED")):
                    if (path / switch).exists():
                        with contextlib.suppress(OSError):
                            _write(path / switch, value)
            for path in sorted(paths, key=lambda p: p.parent.parent.name == "freezer"):
                try:
                    # What is still inside belonged to the dead run (an orphaned environment).
                    _rmdir_when_empty(path, "cgroup.procs", path.parent.parent / "cgroup.procs", kill=True)
                except OSError as exc:
                    print(f"envelopes: {exc}", file=sys.stderr)
        return sorted(stale)

    def group(self, name: str, limits: Limits) -> Group:
        full = f"cafe-envelope-{os.getpid()}-{name}"
        made: Group
        if self._v2 is not None:
            made = _V2Group(self._v2, full, limits)
        elif self._v1 is not None:
            made = _V1Group(self._v1, full, limits)
        else:
            made = _Unenforced(full)
        self._groups.append(made)
        return made

    def discard(self, group: Group) -> None:
        """Remove one group now (its processes have exited or are moved out)."""
        if group in self._groups:
            self._groups.remove(group)
            group.remove()

    def close(self) -> None:
        errors: list[str] = []
        while self._groups:
            group = self._groups.pop()
            try:
                group.remove()
            except OSError as exc:
                errors.append(str(exc))
        if errors:
            raise OSError("; ".join(errors))

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    def __enter__(self) -> Envelopes:
        self.sweep_stale()
        with contextlib.suppress(ValueError):  # not the main thread: the caller handles signals
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.close()
        finally:
            if self._previous_sigterm is not None:
                with contextlib.suppress(ValueError, TypeError):
                    signal.signal(signal.SIGTERM, self._previous_sigterm)  # type: ignore[arg-type]


@contextlib.contextmanager
def envelopes(prefer: Mechanism | None = None) -> Iterator[Envelopes]:
    with Envelopes.open(prefer) as opened:
        yield opened
