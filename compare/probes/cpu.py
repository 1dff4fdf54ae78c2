"""CPU time of a process tree, from /proc/<pid>/stat.

utime + stime + cutime + cstime of every process in the tree, so a gunicorn master with its
workers, or the Lambda front with its environments, is measured as a whole, and children that
exit still count through their parent's cutime/cstime.
"""

from __future__ import annotations

import os

from compare.results import CpuSplit

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            raw = handle.read()
    except OSError:
        return None
    # Field 2 (comm) may contain spaces: split after its closing parenthesis.
    return raw[raw.rfind(")") + 2 :].split()


def children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def descendants(root: int) -> list[int]:
    tree = children_map()
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(tree.get(pid, []))
    return found


def process_cpu_s(pid: int, include_children: bool = True) -> float:
    """CPU seconds of one process (own, plus reaped children's when include_children)."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # After comm: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    ticks = int(fields[11]) + int(fields[12])
    if include_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def tree_cpu_s(root: int) -> CpuSplit:
    """CPU seconds of the root process alone, of the rest of its tree, and of both."""
    pids = descendants(root)
    root_own = process_cpu_s(root, include_children=False)
    rest = sum(process_cpu_s(pid) for pid in pids if pid != root)
    reaped = process_cpu_s(root) - root_own
    children = rest + reaped
    return CpuSplit(root=root_own, children=children, total=root_own + children)


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass  # gone meanwhile
    return 0


def tree_rss_mb(root: int, include_children: bool = True) -> float:
    """Resident memory of a process tree (or of its root alone) in MiB: VmRSS of each process,
    shared pages counted once per process, an upper bound like the sum `ps` would show."""
    pids = descendants(root) if include_children else [root]
    return sum(_rss_kb(pid) for pid in pids) / 1024
