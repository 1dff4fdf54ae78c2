"""CPU of a process tree from /proc: children's time counts, reaped or not."""

from __future__ import annotations

import subprocess
import sys
import time

from compare.probes.cpu import tree_cpu_s


def test_tree_cpu_counts_children() -> None:
    spin = (
        "import os,time\nif os.fork()==0:\n  t=time.process_time()\n"
        "  while time.process_time()-t<0.3: pass\n  os._exit(0)\nos.wait()\ntime.sleep(30)"
    )
    process = subprocess.Popen([sys.executable, "-c", spin])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and tree_cpu_s(process.pid).children < 0.25:
            time.sleep(0.05)
        cpu = tree_cpu_s(process.pid)
        assert cpu.children >= 0.25  # the child's CPU, reaped into the parent's cutime
        assert cpu.total >= cpu.children
    finally:
        process.kill()
        process.wait()
